"""`/book [coach] [offering] [timezone] [referral]`: book a session, step by step (see
`cogs/_book_flow.py`). Coach and offering autocomplete with ids (the offering list follows the
chosen coach); the timezone is remembered for next time."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from cogs._book_flow import BookFlow
from cogs._coach_views import timezone_choices
from scheduling import book_flow as service
from scheduling.errors import DomainError


class Book(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def coach_autocomplete(self, interaction: discord.Interaction, current: str
                                 ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:  # read only
            pairs = await service.coach_choices(uow, interaction.guild_id, current)
        return [app_commands.Choice(name=name, value=value) for name, value in pairs]

    async def offering_autocomplete(self, interaction: discord.Interaction, current: str
                                    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        coach = getattr(interaction.namespace, "coach", None)
        try:
            async with self.bot.services.uow() as uow:  # read only
                pairs = await service.offering_choices(uow, interaction.guild_id, current,
                                                       coach if isinstance(coach, str) else None)
        except DomainError:
            return []
        return [app_commands.Choice(name=name, value=value) for name, value in pairs]

    @app_commands.command(name="book", description="Book a session with a coach")
    @app_commands.guild_only()
    @app_commands.describe(
        coach="The coach (pick from the list; leave out to choose step by step)",
        offering="What to book (pick from the list)",
        timezone="Your timezone, e.g. Europe/Berlin (remembered for next time)",
        referral="A referral code someone gave you (optional)",
    )
    @app_commands.autocomplete(coach=coach_autocomplete, offering=offering_autocomplete,
                               timezone=timezone_choices)
    async def book(self, interaction: discord.Interaction, coach: str | None = None,
                   offering: str | None = None, timezone: str | None = None,
                   referral: app_commands.Range[str, 1, 32] | None = None) -> None:
        await BookFlow.start(self.bot, interaction, coach=coach, offering=offering,
                             timezone=timezone, referral=referral)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Book(bot))
