"""`/coaching ...`: server-level commands. For now `about`, which proves the whole path works."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot


def about_embed(version: str, backend: str, stripe_configured: bool) -> discord.Embed:
    embed = discord.Embed(title="Coachbot", colour=discord.Colour.blurple(),
                          description="Sell and run coaching sessions inside Discord.")
    embed.add_field(name="Version", value=version)
    embed.add_field(name="Database", value="PostgreSQL" if backend == "postgresql" else "SQLite")
    embed.add_field(
        name="Payments",
        value="Stripe configured" if stripe_configured else
        "Stripe not configured: only free offerings can be booked "
        "(set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)",
        inline=False,
    )
    return embed


class Coaching(commands.Cog):
    coaching = app_commands.Group(name="coaching", description="Coaching on this server")

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    @coaching.command(name="about", description="Version, database and payment status of the bot")
    async def about(self, interaction: discord.Interaction) -> None:
        services = self.bot.services
        embed = about_embed(services.version, services.database_backend,
                            services.settings.stripe_configured)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Coaching(bot))
