# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Creates the virtual environment, installs, migrates the database and starts the bot
# (reads config.toml, created from config.example.toml on first run, and DISCORD_TOKEN).
run: $(STAMP)
	$(BIN)/coachbot run

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

# Performance measurements; each prints its figures and fails when a target is missed.
bench: $(STAMP)
	@set -e; for b in benchmarks/bench_*.py; do \
		echo "== $$b"; $(BIN)/python -m benchmarks.$$(basename $$b .py); done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
