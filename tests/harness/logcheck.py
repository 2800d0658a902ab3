"""Catch errors that discord.py (or the bot) logged and swallowed, so the test can fail on them.

discord.py runs commands, views and modals in tasks and only *logs* their exceptions
("Ignoring exception in command ..."); without this a crashing command passes its test.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

BOT_LOGGERS = ("bot", "cogs")


def _in(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def _text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        text += f"\n{type(exc).__name__}: {exc}"
    return text


@dataclass
class _Expectation:
    pattern: re.Pattern[str] | None
    records: list[logging.LogRecord] = field(default_factory=list)

    def matches(self, record: logging.LogRecord) -> bool:
        return self.pattern is None or self.pattern.search(_text(record)) is not None


class ErrorLogCapture(logging.Handler):
    """ERROR records of `discord.*`, and of `bot.*`/`cogs.*` when they report an exception."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.unexpected: list[logging.LogRecord] = []
        self._expectations: list[_Expectation] = []

    def _relevant(self, record: logging.LogRecord) -> bool:
        if _in(record.name, ("discord",)):
            return True
        return _in(record.name, BOT_LOGGERS) and (
            record.exc_info is not None or "Ignoring exception" in record.getMessage()
        )

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR or not self._relevant(record):
            return
        for expectation in reversed(self._expectations):
            if expectation.matches(record):
                expectation.records.append(record)
                return
        self.unexpected.append(record)

    def install(self) -> None:
        # On `discord` directly, in case something turned off its propagation; on the root
        # logger for the bot's own loggers. `handle` keeps one record from counting twice.
        logging.getLogger("discord").addHandler(self)
        logging.getLogger().addHandler(self)

    def uninstall(self) -> None:
        logging.getLogger("discord").removeHandler(self)
        logging.getLogger().removeHandler(self)

    def handle(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_harness_seen", False):
            return False
        record._harness_seen = True  # type: ignore[attr-defined]
        return bool(super().handle(record))

    def take_unexpected(self) -> list[logging.LogRecord]:
        records, self.unexpected = self.unexpected, []
        return records

    @contextmanager
    def expect(self, match: str | None = None) -> Iterator[list[logging.LogRecord]]:
        """Within the block, ERROR records matching `match` (regex) are expected, not failures.

        Yields the list the matching records are collected in; fails if none arrived.
        """
        expectation = _Expectation(re.compile(match) if match else None)
        self._expectations.append(expectation)
        try:
            yield expectation.records
        finally:
            self._expectations.remove(expectation)
        if not expectation.records:
            raise AssertionError(f"expected an ERROR log matching {match!r}, none was logged")
