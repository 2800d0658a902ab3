"""`/referral link|stats`: any member's referral code on this server and what it earned."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from scheduling import referrals as service
from scheduling.referrals import ReferrerCommission


def commission_text(percent: int) -> str:
    if percent <= 0:
        return ("This server pays no referral commission at the moment (admins set it with "
                "`/coaching setup referral_commission_percent:`).")
    return (f"You earn **{percent} %** of what students pay for bookings made with your code "
            "(after refunds). Server admins see it in `/coaching earnings` and pay it out.")


def link_text(code: str, percent: int) -> str:
    return (f"Your referral code on this server: **{code}**\n"
            f"Share it: students enter it in `/book referral:{code}`.\n"
            f"{commission_text(percent)}")


def stats_text(code: str, percent: int, rows: list[ReferrerCommission]) -> str:
    lines = [f"Your referral code: **{code}** · commission now: {percent} %"]
    if not rows:
        lines.append("No paid bookings with your code yet. Share it: students enter it in "
                     f"`/book referral:{code}`.")
    for row in rows:
        booked = f"{row.bookings} paid booking{'s' if row.bookings != 1 else ''}"
        refunded = f" ({row.fully_refunded} fully refunded)" if row.fully_refunded else ""
        earned = str(row.commission) if row.commission.minor else "nothing"
        lines.append(f"{row.kept.currency}: {booked}{refunded} · commission {earned}")
    return "\n".join(lines)


class Referral(commands.Cog):
    referral = app_commands.Group(name="referral", description="Refer students and earn a share",
                                  guild_only=True)

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    @referral.command(name="link", description="Your referral code for this server and how to "
                      "share it")
    async def link(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # the group is guild-only
        async with self.bot.services.uow() as uow:
            code = await service.referral_code(uow, guild_id=interaction.guild_id,
                                               user_id=interaction.user.id)
            percent = await service.commission_percent(uow, interaction.guild_id)
            await uow.commit()
        await interaction.response.send_message(link_text(code, percent), ephemeral=True)

    @referral.command(name="stats", description="Bookings made with your referral code and your "
                      "commission")
    async def stats(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:
            code = await service.referral_code(uow, guild_id=interaction.guild_id,
                                               user_id=interaction.user.id)
            percent = await service.commission_percent(uow, interaction.guild_id)
            rows = await service.referral_commissions(uow, guild_id=interaction.guild_id,
                                                      referrer_id=interaction.user.id)
            await uow.commit()
        await interaction.response.send_message(stats_text(code, percent, rows), ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Referral(bot))
