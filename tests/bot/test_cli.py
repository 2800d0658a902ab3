"""The `coachbot` program as a user runs it: real subprocesses in a scratch folder."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def coachbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DISCORD_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                          "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )


def scratch(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.example.toml")
    return tmp_path


def test_run_without_token_exits_2_with_guidance(tmp_path):
    result = coachbot(scratch(tmp_path), "run")
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "SERVER MEMBERS INTENT" in result.stderr
    assert "applications.commands" in result.stderr
    assert "Manage Roles" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert (tmp_path / "config.toml").exists(), "first run copies the example config"


def test_run_with_bad_token_migrates_then_stops_at_login_in_one_line(tmp_path):
    result = coachbot(scratch(tmp_path), "run", DISCORD_TOKEN="x-not-a-real-token")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("coachbot: ")
    assert "cannot reach Discord" in last or "invalid token" in last
    assert "x-not-a-real-token" not in result.stderr + result.stdout
    db = tmp_path / "data" / "coachbot.db"
    with sqlite3.connect(db) as conn:
        version = conn.execute("select version_num from alembic_version").fetchone()
        journal = conn.execute("pragma journal_mode").fetchone()[0]
    assert version is not None
    assert journal == "wal"


def test_invalid_config_stops_with_one_line_naming_the_key(tmp_path):
    (tmp_path / "config.toml").write_text("[web]\nport = 0\n")
    result = coachbot(tmp_path, "run", DISCORD_TOKEN="x")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "web.port" in result.stderr


def test_check_config_validates_without_connecting_or_echoing_secrets(tmp_path):
    result = coachbot(scratch(tmp_path), "--config", "config.example.toml", "check-config",
                      DISCORD_TOKEN="tok-very-secret", STRIPE_SECRET_KEY="sk_test_secret99",
                      STRIPE_WEBHOOK_SECRET="whsec_secret99",
                      DATABASE_URL="postgresql+asyncpg://u:pw-secret@nowhere.invalid/db")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "settings OK" in out
    assert "Stripe: configured" in out
    assert "DISCORD_TOKEN: set" in out
    for secret in ("tok-very-secret", "sk_test_secret99", "whsec_secret99", "pw-secret"):
        assert secret not in out + result.stderr


def test_migrate_creates_the_default_database(tmp_path):
    result = coachbot(scratch(tmp_path), "migrate")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "data" / "coachbot.db") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"bookings", "coaches", "offerings", "guild_settings"} <= tables


def test_sync_commands_without_token_exits_2(tmp_path):
    result = coachbot(scratch(tmp_path), "sync-commands", "--guild", "123")
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
