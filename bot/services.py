"""What the bot process hands to its cogs: settings, storage and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage.uow import UnitOfWork, make_session_factory
from storage.urls import backend_name

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def bot_version() -> str:
    try:
        return version("coachbot")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    clock: Clock = utc_now
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.sessionmaker = make_session_factory(self.engine)

    def uow(self, *, immediate: bool = False) -> UnitOfWork:
        """A new unit of work; `immediate` serialises check-then-write work on SQLite."""
        return UnitOfWork(self.sessionmaker, immediate=immediate)

    @property
    def database_backend(self) -> str:
        return backend_name(self.settings.database_url)

    @property
    def version(self) -> str:
        return bot_version()
