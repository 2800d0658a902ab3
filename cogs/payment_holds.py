"""Releases payment holds that ran out even when no Stripe webhook arrives, and retries refunds
that did not reach Stripe, every minute (`BotPayments.run_maintenance`; the scheduler may take
this over later)."""

from __future__ import annotations

import logging

from discord.ext import commands, tasks

from bot.client import CoachBot
from bot.waitlist import holds_released
from scheduling.payments import MaintenanceReport

log = logging.getLogger(__name__)

MAINTENANCE_MINUTES = 1


class PaymentHolds(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.maintain.start()

    async def cog_unload(self) -> None:
        self.maintain.cancel()

    async def run_once(self) -> MaintenanceReport | None:
        """One pass; an error is logged and the loop keeps running (a loop stops on errors)."""
        try:
            report = await self.bot.payments.run_maintenance()
            await holds_released(self.bot, report)  # released times go to the waitlist
        except Exception:
            log.exception("payment maintenance pass failed")
            return None
        if report.holds or report.refunds:
            log.info("payment maintenance: %d hold(s) handled, %d refund(s) retried",
                     len(report.holds), len(report.refunds))
        return report

    @tasks.loop(minutes=MAINTENANCE_MINUTES)
    async def maintain(self) -> None:
        await self.run_once()

    @maintain.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(PaymentHolds(bot))
