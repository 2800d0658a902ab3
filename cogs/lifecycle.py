"""Runs the session lifecycle (reminders, status changes, rating requests, cleanup): starts the
scheduler and rebuilds its wake-ups from the database when loaded, does overdue work once the
bot is ready, and registers the buttons of rating DMs and session cards."""

from __future__ import annotations

import logging

from discord.ext import commands

from bot import lifecycle_views, rating_views
from bot.client import CoachBot
from bot.lifecycle import COG_NAME, DiscordEffects
from scheduling.jobs import SessionRunner

log = logging.getLogger(__name__)

DYNAMIC_ITEMS = (*rating_views.DYNAMIC_ITEMS, *lifecycle_views.DYNAMIC_ITEMS)


class Lifecycle(commands.Cog, name=COG_NAME):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot
        self.runner = SessionRunner(bot.services.uow, DiscordEffects(bot), bot.services.clock)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.runner.start()
        if self.bot.is_ready():  # loaded again while running
            self.runner.set_ready()

    async def cog_unload(self) -> None:
        await self.runner.stop()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.runner.set_ready()


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Lifecycle(bot))
