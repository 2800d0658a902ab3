"""Tells students by DM, 7 days ahead, that unused package credits are about to expire
(`scheduling.packages.send_expiry_notices`), once per purchase, every hour."""

from __future__ import annotations

import logging

from discord.ext import commands, tasks

from bot.client import CoachBot
from scheduling.packages import send_expiry_notices
from scheduling.payments import NotifyStudent

log = logging.getLogger(__name__)

CHECK_HOURS = 1


class PackageExpiry(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.check.start()

    async def cog_unload(self) -> None:
        self.check.cancel()

    async def run_once(self) -> list[NotifyStudent] | None:
        """One pass: claim the due notices (committed), then DM them. An error is logged and
        the loop keeps running (a loop stops on errors)."""
        services = self.bot.services
        try:
            notices = await send_expiry_notices(services.uow, now=services.clock())
            await self.bot.payments.carry_out(notices)
        except Exception:
            log.exception("package expiry pass failed")
            return None
        if notices:
            log.info("package expiry: %d notice(s) sent", len(notices))
        return notices

    @tasks.loop(hours=CHECK_HOURS)
    async def check(self) -> None:
        await self.run_once()

    @check.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(PackageExpiry(bot))
