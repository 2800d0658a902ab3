"""Retries the Discord side of bookings that is not finished (a missing permission fixed since,
a restart in the middle), every five minutes; and registers the session card's buttons so they
work on every card, in channels and DMs, across restarts."""

from __future__ import annotations

import logging

from discord.ext import commands, tasks

from bot.client import CoachBot
from bot.provisioning import RetryReport, retry_unfinished
from bot.session_card import DYNAMIC_ITEMS

log = logging.getLogger(__name__)

RETRY_MINUTES = 5


class ProvisioningRetry(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.retry.start()

    async def cog_unload(self) -> None:
        self.retry.cancel()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def run_once(self) -> RetryReport | None:
        """One pass; an error is logged and the loop keeps running (a loop stops on errors)."""
        try:
            report = await retry_unfinished(self.bot)
        except Exception:
            log.exception("provisioning retry pass failed")
            return None
        if report.outcomes or report.given_up:
            log.info("provisioning retry: %d booking(s) retried, %d step(s) given up",
                     len(report.outcomes), report.given_up)
        return report

    @tasks.loop(minutes=RETRY_MINUTES)
    async def retry(self) -> None:
        await self.run_once()

    @retry.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(ProvisioningRetry(bot))
