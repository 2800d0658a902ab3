"""What the bot process hands to its cogs: settings, storage and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.settings import Settings
from storage.uow import UnitOfWork
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
    sessionmaker: async_sessionmaker = field(init=False)

    def __post_init__(self) -> None:
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)

    @property
    def database_backend(self) -> str:
        return backend_name(self.settings.database_url)

    @property
    def version(self) -> str:
        return bot_version()
