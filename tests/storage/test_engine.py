"""Engine set-up: SQLite pragmas and transactions, URL helpers, PostgreSQL URL options."""

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from storage.engine import SQLITE_BEGIN_OPTION, create_engine
from storage.urls import (
    DEFAULT_DATABASE_URL,
    backend_name,
    libpq_server_settings,
    normalise_url,
    redact_url,
)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(sqlite_url):
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert await connection.scalar(text("PRAGMA busy_timeout")) == 5000
    finally:
        await engine.dispose()


async def test_sqlite_enforces_foreign_keys(engine):
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO schedules (coach_id, name, timezone, is_default) "
                    "VALUES (12345, 'x', 'UTC', false)"
                )
            )


async def test_sqlite_file_parent_directory_is_created(tmp_path):
    database = tmp_path / "nested" / "deeper" / "coachbot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert database.exists()


async def test_sqlite_transactions_are_real_and_support_savepoints(sqlite_url):
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.connect() as connection:
            await connection.begin()
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            savepoint = await connection.begin_nested()
            await connection.execute(text("INSERT INTO t VALUES (2)"))
            await savepoint.rollback()
            await connection.commit()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).scalars().all() == [1]
    finally:
        await engine.dispose()


async def test_unknown_sqlite_begin_mode_is_refused(sqlite_url):
    engine = create_engine(sqlite_url).execution_options(**{SQLITE_BEGIN_OPTION: "LATER"})
    try:
        with pytest.raises(ValueError, match=SQLITE_BEGIN_OPTION):
            async with engine.begin() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_postgres_url_options_select_the_schema(postgres_url):
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            schema = await connection.scalar(text("SELECT current_schema()"))
    finally:
        await engine.dispose()
    assert schema is not None
    assert schema.startswith("coachbot_test_")


def test_default_url_is_a_sqlite_file_under_data():
    assert DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///data/coachbot.db"
    assert backend_name(DEFAULT_DATABASE_URL) == "sqlite"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h:5433/db", "postgresql+asyncpg://u@h:5433/db"),
    ],
)
def test_urls_are_normalised_to_the_async_drivers(url, expected):
    assert normalise_url(url) == make_url(expected)


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "sqlite+pysqlite:///x.db"]
)
def test_other_backends_and_drivers_are_refused(url):
    with pytest.raises(ValueError, match="unsupported database"):
        normalise_url(url)


def test_backend_name():
    assert backend_name("sqlite+aiosqlite:///data/coachbot.db") == "sqlite"
    assert backend_name("postgresql+asyncpg://u:p@h/db") == "postgresql"
    assert backend_name("postgres://u:p@h/db") == "postgresql"


def test_redacted_urls_never_contain_the_password():
    rendered = redact_url("postgresql+asyncpg://bot:s3cr%40t@db.example:5432/coach")
    assert "s3cr" not in rendered
    assert rendered == "postgresql+asyncpg://bot:***@db.example:5432/coach"
    rendered = redact_url("postgresql+asyncpg://bot@db/coach?password=hunter2&sslmode=require")
    assert "hunter2" not in rendered
    assert "sslmode=require" in rendered
    assert redact_url("sqlite+aiosqlite:///data/coachbot.db") == (
        "sqlite+aiosqlite:///data/coachbot.db"
    )


def test_libpq_options_become_server_settings():
    assert libpq_server_settings("-csearch_path=a,public -c statement_timeout=5000") == {
        "search_path": "a,public",
        "statement_timeout": "5000",
    }
    assert libpq_server_settings("--lock-timeout=10") == {"lock_timeout": "10"}
    with pytest.raises(ValueError, match="unsupported entry"):
        libpq_server_settings("-x")
    with pytest.raises(ValueError, match="name=value"):
        libpq_server_settings("-c search_path")
