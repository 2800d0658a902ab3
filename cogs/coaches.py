"""`/coaches [specialty] [sort]`: browse the coaches students can book, as pages of coach
cards; open one to see their offerings and book one (see `cogs/_book_browse.py`)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from cogs._book_browse import CoachesView
from scheduling import browse

SORT_CHOICES = [app_commands.Choice(name=f"{key}: {label}", value=key)
                for key, label in browse.SORTS.items()]


class Coaches(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def specialty_autocomplete(self, interaction: discord.Interaction, current: str
                                     ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:  # read only
            names = await browse.specialty_suggestions(uow, interaction.guild_id, current)
        return [app_commands.Choice(name=name[:100], value=name[:100]) for name in names]

    @app_commands.command(name="coaches", description="Browse the coaches you can book")
    @app_commands.guild_only()
    @app_commands.describe(specialty="Only coaches with this specialty",
                           sort="Order: rating (default), price or soonest free time")
    @app_commands.autocomplete(specialty=specialty_autocomplete)
    @app_commands.choices(sort=SORT_CHOICES)
    async def coaches(self, interaction: discord.Interaction, specialty: str | None = None,
                      sort: str | None = None) -> None:
        wanted = browse.clean_specialty(specialty)
        order = browse.check_sort(sort)
        assert interaction.guild_id is not None
        # Finding each coach's next free time reads their calendars: answer within 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self.bot.services.uow() as uow:  # read only
            listings = await browse.list_coaches(uow, guild_id=interaction.guild_id,
                                                 specialty=wanted, sort=order,
                                                 now=self.bot.services.clock())
        if not listings:
            text = (f"No coach here lists “{wanted}” as a specialty. Try another one, or leave "
                    "`specialty` out to see everyone." if wanted else
                    "Nobody on this server has anything to book yet. Once a coach publishes "
                    "an offering, it shows up here.")
            await interaction.followup.send(text, ephemeral=True)
            return
        title = "Coaches" + (f" for “{wanted}”" if wanted else "") + f", {browse.SORTS[order]}"
        view = CoachesView(self.bot, interaction.user.id, listings, title=title)
        await interaction.followup.send(ephemeral=True, **view.list_screen(interaction.guild))


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Coaches(bot))
