"""Migrations run from any working directory, are idempotent and reversible."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.engine import create_engine
from storage.migrate import MIGRATIONS_DIR, alembic_config, migrate, upgrade_to_head
from storage.models import Base

REPO = Path(__file__).resolve().parents[2]


async def _version_and_tables(url: str) -> tuple[str | None, set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            version = None
            if "alembic_version" in tables:
                version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            return version, tables
    finally:
        await engine.dispose()


def _head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations must not branch: {heads}"
    return heads[0]


def test_the_migrations_form_one_numbered_chain():
    revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    numbers = sorted(int(r.revision) for r in revisions)
    assert numbers == list(range(1, len(numbers) + 1)), "revisions are numbered 0001, 0002, ..."
    assert _head() == f"{numbers[-1]:04d}"
    assert (MIGRATIONS_DIR / "env.py").is_file()


async def test_migrate_creates_every_table_and_is_idempotent(db_url):
    await migrate(db_url)
    await migrate(db_url)
    version, tables = await _version_and_tables(db_url)
    assert version == _head()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


async def test_migrate_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'coachbot.db'}"
    await migrate(url)
    assert (await _version_and_tables(url))[0] == _head()


async def test_the_sync_entry_point_upgrades(sqlite_url):
    # upgrade_to_head runs its own event loop, as a command-line entry point would.
    await asyncio.to_thread(upgrade_to_head, sqlite_url)
    assert (await _version_and_tables(sqlite_url))[0] == _head()


def _downgrade_to_base(connection: Connection) -> None:
    command.downgrade(alembic_config(connection=connection), "base")


async def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(db_url):
    await migrate(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade_to_base)
    finally:
        await engine.dispose()
    assert (await _version_and_tables(db_url))[1] == {"alembic_version"}

    await migrate(db_url)
    assert (await _version_and_tables(db_url))[1] == set(Base.metadata.tables) | {"alembic_version"}


def test_the_alembic_ini_works_for_developers(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(REPO / "storage" / "alembic.ini"),
            "upgrade",
            "head",
        ],
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev.db").is_file()
