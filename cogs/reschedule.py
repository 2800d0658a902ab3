"""`/reschedule`: move one of your upcoming sessions to another free time of the same offering,
under its policy (see `bot/rescheduling.py` for the flow and what happens after; the same flow
runs from the session card's Reschedule button)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from bot.rescheduling import DYNAMIC_ITEMS, start_reschedule
from scheduling.rescheduling import upcoming_choices


class Reschedule(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def booking_autocomplete(self, interaction: discord.Interaction, current: str
                                   ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        now = self.bot.services.clock()
        async with self.bot.services.uow() as uow:  # read only
            rows = await uow.bookings.sessions_of_user(interaction.guild_id, interaction.user.id,
                                                       upcoming=True, now=now, limit=50)
        return [app_commands.Choice(name=label, value=booking_id)
                for label, booking_id in upcoming_choices(
                    rows, str(current), student_id=interaction.user.id, now=now)]

    @app_commands.command(name="reschedule",
                          description="Move one of your upcoming sessions to another time")
    @app_commands.describe(booking="The session to move (start typing to pick one)")
    @app_commands.autocomplete(booking=booking_autocomplete)
    @app_commands.guild_only()
    async def reschedule(self, interaction: discord.Interaction,
                         booking: app_commands.Range[int, 1]) -> None:
        await start_reschedule(interaction, booking)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Reschedule(bot))
