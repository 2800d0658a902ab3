"""The real Coachbot bot in a dpytest guild, on a migrated SQLite file, with a clock tests move.

- `clock`: a `FakeClock` (Monday 2026-11-23 09:00 UTC) that services read instead of the time.
- `make_coachbot(settings=None, engine=None)`: a started `CoachBot` with every cog loaded, in a
  dpytest guild (2 text channels, 1 voice channel, 3 members) where the bot's role has the
  permissions the README asks for. Passing the `engine` of an earlier bot is how a test restarts.
- `coachbot`, `driver`, `guild`, `members`: the default bot, its interaction driver, its guild and
  its three members.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.client import CoachBot
from bot.services import Services
from bot.settings import BotSettings, Secret, Settings
from storage.engine import create_engine
from storage.migrate import migrate_engine
from tests.harness.dpytest_fixes import grant_bot_permissions
from tests.harness.driver import InteractionDriver

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def stripe_settings(settings: Settings) -> Settings:
    """`settings` with Stripe configured (test keys)."""
    return replace(settings, stripe_secret_key=Secret("sk_test_coachbot"),
                   stripe_webhook_secret=Secret("whsec_coachbot"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bot_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url, bot=BotSettings(data_dir=tmp_path / "data"))


@pytest.fixture
async def make_coachbot(
    dpytest_fixes: None, bot_settings: Settings, clock: FakeClock
) -> AsyncIterator[Callable[..., Awaitable[CoachBot]]]:
    engines: list[AsyncEngine] = []

    async def make(settings: Settings | None = None,
                   engine: AsyncEngine | None = None) -> CoachBot:
        settings = settings or bot_settings
        if engine is None:
            engine = create_engine(settings.database_url)
            await migrate_engine(engine)
            engines.append(engine)
        bot = CoachBot(Services(settings, engine, clock=clock))
        await bot._async_setup_hook()
        dpytest.configure(bot, guilds=1, text_channels=2, voice_channels=1, members=3)
        grant_bot_permissions(dpytest.get_config().guilds[0])
        await bot.load_cogs()
        return bot

    yield make
    await dpytest.empty_queue()
    for engine in engines:
        await engine.dispose()


@pytest.fixture
async def coachbot(make_coachbot: Callable[..., Awaitable[CoachBot]]) -> CoachBot:
    return await make_coachbot()


@pytest.fixture
def driver(coachbot: CoachBot, make_driver: Callable[..., InteractionDriver]) -> InteractionDriver:
    return make_driver(coachbot)


@pytest.fixture
def guild(coachbot: CoachBot) -> discord.Guild:
    return dpytest.get_config().guilds[0]


@pytest.fixture
def members(coachbot: CoachBot) -> list[discord.Member]:
    return list(dpytest.get_config().members)
