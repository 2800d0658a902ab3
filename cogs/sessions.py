"""`/sessions`: the caller's upcoming and past sessions on this server, as student and as
coach, paged, with Join and Materials buttons where they apply (see
`cogs/_sessions_views.py`). Cancelling and rescheduling come with their own commands."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from cogs._sessions_views import SessionsView


class Sessions(commands.Cog):
    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    @app_commands.command(name="sessions", description="Your upcoming and past sessions")
    @app_commands.guild_only()
    async def sessions(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        view = SessionsView(self.bot, interaction.user.id, interaction.guild_id)
        screen = view.screen(await view.load())
        await interaction.response.send_message(ephemeral=True, **screen)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Sessions(bot))
