"""Database fixtures (SQLite files and PostgreSQL) shared by every test package.

Fixtures:
- ``db_url``: a fresh, empty database URL, parametrized over ``sqlite`` (a file under
  ``tmp_path``) and ``postgres`` (a throwaway schema, dropped afterwards).
- ``sqlite_url`` / ``postgres_url``: one backend only (tests using ``postgres_url`` get the
  ``postgres`` marker automatically).
- ``engine``: an ``AsyncEngine`` on ``db_url``, migrated to head by ``storage.migrate``.
- ``session_factory``: ``storage.uow.make_session_factory(engine)``.
- ``uow_factory``: call it (optionally ``immediate=True``) to get a ``UnitOfWork``.

PostgreSQL comes from ``COACHBOT_TEST_POSTGRES_URL`` if set, else
``postgresql+asyncpg://postgres@127.0.0.1:5432/test`` when that port answers. Otherwise the
PostgreSQL tests skip with the reason, or fail when ``CI=true``. Each test gets its own schema,
selected through the URL (``?options=-csearch_path%3D<schema>,public``), so any engine made
from the URL with ``storage.engine.create_engine`` sees only that schema; ``btree_gist`` lives
in ``public``.
"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.uow import UnitOfWork, make_session_factory

POSTGRES_URL_ENV = "COACHBOT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_UNAVAILABLE = (
    "PostgreSQL not reachable at 127.0.0.1:5432 and COACHBOT_TEST_POSTGRES_URL unset"
)
SCHEMA_PREFIX = "coachbot_test_"

_extension_ready: set[str] = set()


@functools.cache
def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _postgres_base_url() -> str:
    """The server to test against, or skip (fail under ``CI=true``) when there is none."""
    configured = os.environ.get(POSTGRES_URL_ENV)
    if configured:
        return configured
    if _port_answers("127.0.0.1", 5432):
        return DEFAULT_POSTGRES_URL
    if os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_UNAVAILABLE} (CI=true: PostgreSQL tests must run)")
    pytest.skip(POSTGRES_UNAVAILABLE)


async def _ensure_btree_gist(admin: AsyncEngine, base_url: str) -> None:
    if base_url in _extension_ready:
        return
    try:
        async with admin.begin() as connection:
            await connection.execute(
                text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
            )
    except DBAPIError:
        # Another test process created it at the same moment; it exists now either way.
        async with admin.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")
            )
        if found is None:
            raise
    _extension_ready.add(base_url)


@asynccontextmanager
async def _postgres_schema() -> AsyncIterator[str]:
    """A new empty schema; yields a URL whose connections use it (then ``public``)."""
    base_url = _postgres_base_url()
    schema = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, poolclass=NullPool)
    try:
        await _ensure_btree_gist(admin, base_url)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url)
        options = f"{url.query.get('options', '')} -csearch_path={schema},public".strip()
        try:
            yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
        finally:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await admin.dispose()


def _sqlite_url(directory: os.PathLike[str]) -> str:
    return f"sqlite+aiosqlite:///{os.fspath(directory)}/coachbot.db"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that ask for ``postgres_url`` need PostgreSQL: give them the marker."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    """URL of a new SQLite file (not yet created) under the test's ``tmp_path``."""
    return _sqlite_url(tmp_path)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """URL of a new, empty PostgreSQL schema, dropped after the test."""
    async with _postgres_schema() as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
async def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> AsyncIterator[str]:
    """URL of a new, empty database on each backend."""
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path)
        return
    async with _postgres_schema() as url:
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``db_url`` with every migration applied."""
    database = create_engine(db_url)
    try:
        await migrate_engine(database)
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture
def uow_factory(
    session_factory: async_sessionmaker[AsyncSession],
) -> Callable[..., UnitOfWork]:
    """``uow_factory()`` or ``uow_factory(immediate=True)`` -> a new ``UnitOfWork``."""
    return functools.partial(UnitOfWork, session_factory)
