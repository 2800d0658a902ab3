"""Discord harness fixtures: a configured bot, dpytest guild state and the interaction driver.

- `dpytest_fixes`: patches dpytest for discord.py 2.7 (once per session).
- `make_driver(bot, **options)`: an installed `InteractionDriver` for any `commands.Bot`; at
  teardown it restores discord.py and fails the test on errors logged after the last call.
- `harness_bot`: a plain `commands.Bot` in a dpytest guild (1 text channel, 2 members) whose own
  role has `BOT_PERMISSIONS`; `harness_driver`: a driver for it. For the harness's self-tests and
  for cogs that need no Coachbot services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext import commands

from tests.harness import dpytest_fixes as fixes
from tests.harness.driver import InteractionDriver
from tests.harness.errors import UnhandledInteractionError


@pytest.fixture(scope="session")
def dpytest_fixes_applied() -> None:
    fixes.apply()


@pytest.fixture
def dpytest_fixes(dpytest_fixes_applied: None) -> Iterator[None]:
    """dpytest patched; per-test backend state (closed DMs, attachment files) reset after."""
    yield
    fixes.reset()


@pytest.fixture
def make_driver(dpytest_fixes: None) -> Iterator[Callable[..., InteractionDriver]]:
    drivers: list[InteractionDriver] = []

    def make(bot: commands.Bot, **options: Any) -> InteractionDriver:
        driver = InteractionDriver(bot, **options).install()
        drivers.append(driver)
        return driver

    yield make
    failures = []
    for driver in reversed(drivers):
        try:
            driver.close()
        except UnhandledInteractionError as e:
            failures.append(e)
    if failures:
        raise failures[0]


@pytest.fixture
async def harness_bot(dpytest_fixes: None) -> AsyncIterator[commands.Bot]:
    intents = discord.Intents.default()
    intents.members = True
    bot = commands.Bot(command_prefix="!", intents=intents)
    await bot._async_setup_hook()
    dpytest.configure(bot, guilds=1, text_channels=1, voice_channels=0, members=2)
    fixes.grant_bot_permissions(dpytest.get_config().guilds[0])
    yield bot
    await dpytest.empty_queue()


@pytest.fixture
def harness_driver(harness_bot: commands.Bot,
                   make_driver: Callable[..., InteractionDriver]) -> InteractionDriver:
    return make_driver(harness_bot)
