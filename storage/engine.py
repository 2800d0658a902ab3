"""Creating the async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

SQLite connections run in WAL mode with foreign keys enforced and a busy timeout. SQLAlchemy, not
the driver, emits ``BEGIN`` (the documented pysqlite/aiosqlite workaround), so a unit of work can
ask for ``BEGIN IMMEDIATE`` through the :data:`SQLITE_BEGIN_OPTION` execution option.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.urls import DEFAULT_DATABASE_URL, libpq_server_settings, normalise_url

# Execution option read when a SQLite transaction begins: "DEFERRED", "IMMEDIATE" or "EXCLUSIVE".
SQLITE_BEGIN_OPTION: Final = "coachbot_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS: Final = 5000

_BEGIN_MODES: Final = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
_SQLITE_PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def create_engine(url: str | URL = DEFAULT_DATABASE_URL, **kwargs: Any) -> AsyncEngine:
    """An :class:`AsyncEngine` for ``url``; ``kwargs`` go to ``create_async_engine``.

    For a SQLite file the parent directory is created. A PostgreSQL URL may carry libpq-style
    ``options`` (``?options=-csearch_path%3Dmyschema``), passed on as server settings.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_parent_directory(parsed)
        engine = create_async_engine(parsed, **kwargs)
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
        return engine
    options = parsed.query.get("options")
    if options is not None:
        settings = libpq_server_settings(options if isinstance(options, str) else " ".join(options))
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args["server_settings"] = {**settings, **connect_args.get("server_settings", {})}
        kwargs["connect_args"] = connect_args
        parsed = parsed.difference_update_query(["options"])
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(parsed, **kwargs)


def _create_parent_directory(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if url.query.get("uri"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver must not emit BEGIN itself; _begin_sqlite_transaction does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
            cursor.fetchall()
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in _BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_BEGIN_MODES)}: {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")
