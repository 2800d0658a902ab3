"""Upgrading a database to the newest schema, independent of the working directory.

The Alembic configuration is built in code: ``script_location`` is this package's
``migrations`` directory and the URL travels in ``Config.attributes`` (never written to an ini
file, never logged).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations, targeting ``url`` or ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def migrate(url: str | URL) -> None:
    """Upgrade the database at ``url`` to the newest revision (creating it if new)."""
    engine = create_engine(url)
    try:
        await migrate_engine(engine)
    finally:
        await engine.dispose()


async def migrate_engine(engine: AsyncEngine) -> None:
    """Upgrade through an existing engine (keeps its connect arguments) in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_on_connection)


def upgrade_to_head(url: str | URL) -> None:
    """Synchronous :func:`migrate`, for command-line entry points (not inside a running loop)."""
    asyncio.run(migrate(url))


def _upgrade_on_connection(connection: Connection) -> None:
    command.upgrade(alembic_config(connection=connection), "head")
