"""`/waitlist join|leave|list`: wait for a coach's time to free up. When one does (cancellation,
abandoned or expired hold), the first waiting student whose window covers it gets a DM with
**Book** / **Pass**; the time is kept for them for 15 minutes, then (or when they pass) it goes
to the next one. Also registers the Pay now message's **Cancel** (see `bot/waitlist.py`)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import CoachBot
from bot.waitlist import DYNAMIC_ITEMS, expire_offers, slot_freed
from cogs._book_views import student_facts
from scheduling import book_flow
from scheduling import waitlist as service

log = logging.getLogger(__name__)

CHECK_MINUTES = 1


def _entry_line(line: service.EntryLine) -> str:
    what = f"**{line.offering_title}**" if line.offering_title else "any offering"
    text = f"{what} with **{line.coach_name}**, in the next {line.days} days"
    if line.status == "offered" and line.offered_start and line.offer_expires_at:
        text += (f": <t:{int(line.offered_start.timestamp())}:F> is offered to you until "
                 f"<t:{int(line.offer_expires_at.timestamp())}:t> (check your DMs)")
    return "• " + text


class Waitlist(commands.Cog):
    group = app_commands.Group(name="waitlist", guild_only=True,
                               description="Wait for a coach's time to free up")

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.check_offers.start()

    async def cog_unload(self) -> None:
        self.check_offers.cancel()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def run_once(self) -> int:
        """Hand timed-out offers to the next student; errors are logged (the loop goes on)."""
        try:
            return await expire_offers(self.bot)
        except Exception:
            log.exception("waitlist offer check failed")
            return 0

    @tasks.loop(minutes=CHECK_MINUTES)
    async def check_offers(self) -> None:
        await self.run_once()

    @check_offers.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    @group.command(name="join", description="Get a DM when a time of this coach frees up")
    @app_commands.describe(coach="The coach (name)", offering="One offering (default: any)",
                           days=f"How far ahead you want a time (1-{service.MAX_DAYS} days)")
    async def join(self, interaction: discord.Interaction, coach: str,
                   offering: str | None = None,
                   days: app_commands.Range[int, 1, service.MAX_DAYS] = service.DEFAULT_DAYS,
                   ) -> None:
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:  # read only
            found = await book_flow.find_coach(uow, interaction.guild_id, coach)
            chosen = (await book_flow.find_offering(uow, interaction.guild_id, offering, found)
                      if offering and offering.strip() else None)
            await book_flow.check_eligible(  # the same checks as /book
                uow, student_facts(interaction), guild_id=interaction.guild_id,
                coach_user_id=found.user_id, offering_id=chosen.id if chosen else None,
                now=self.bot.services.clock())
        await service.join(self.bot.services.uow, guild_id=interaction.guild_id,
                           student_id=interaction.user.id, coach_id=found.id,
                           coach_user_id=found.user_id,
                           offering_id=chosen.id if chosen else None, days=days,
                           now=self.bot.services.clock())
        what = f"**{chosen.title}**" if chosen else "any offering"
        await interaction.response.send_message(
            f"You are on the waitlist for {what} with **{found.display_name}** for the next "
            f"{days} days. When a time frees up you get a DM and {service.OFFER_MINUTES} "
            "minutes to book it.", ephemeral=True)

    @group.command(name="leave", description="Leave all your waitlists on this server")
    async def leave(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        count, freed = await service.leave(self.bot.services.uow, interaction.guild_id,
                                           interaction.user.id)
        await interaction.response.send_message(
            f"You left {count} waitlist{'s' if count != 1 else ''}.", ephemeral=True)
        for time in freed:
            await slot_freed(self.bot, time.coach_id, time.offering_id, time.start)

    @group.command(name="list", description="The waitlists you are on")
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:  # read only
            lines = await service.entries_of(uow, interaction.guild_id, interaction.user.id)
        if not lines:
            text = "You are not on any waitlist here. `/waitlist join` puts you on one."
        else:
            text = "Your waitlists:\n" + "\n".join(_entry_line(line) for line in lines)
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Waitlist(bot))
