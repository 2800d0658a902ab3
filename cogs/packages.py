"""`/packages list|buy`: a student's session credits, and buying a package through Stripe
Checkout (the purchase's webhook adds the credits; see `scheduling/package_payments.py`).
Discord cannot run a command group by itself, so the overview is `/packages list`."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from bot.payments import STRIPE_NOT_CONFIGURED
from cogs._package_views import NO_PACKAGES, credits_embed, pay_message, pay_view
from scheduling import packages as service
from scheduling.errors import NotConfigured


class Packages(commands.Cog):
    packages = app_commands.Group(name="packages", description="Session packages and credits",
                                  guild_only=True)

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def on_sale(self, interaction: discord.Interaction, current: str
                      ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:  # read only
            pairs = await service.buy_choices(uow, interaction.guild_id, current)
        return [app_commands.Choice(name=name, value=value) for name, value in pairs]

    @packages.command(name="list", description="Your session credits and when they expire")
    async def list_credits(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:  # read only
            rows = await service.student_overview(uow, guild_id=interaction.guild_id,
                                                  student_id=interaction.user.id,
                                                  now=self.bot.services.clock())
        if not rows:
            await interaction.response.send_message(NO_PACKAGES, ephemeral=True)
            return
        await interaction.response.send_message(embed=credits_embed(rows), ephemeral=True)

    @packages.command(name="buy", description="Buy a package of sessions at once")
    @app_commands.describe(package="The package (pick from the list)")
    @app_commands.autocomplete(package=on_sale)
    async def buy(self, interaction: discord.Interaction,
                  package: app_commands.Range[str, 1, 100]) -> None:
        assert interaction.guild_id is not None
        if not self.bot.payments.configured:
            raise NotConfigured(STRIPE_NOT_CONFIGURED)
        await interaction.response.defer(ephemeral=True, thinking=True)  # Stripe is next
        started = await self.bot.payments.start_package_checkout(
            guild_id=interaction.guild_id, student_id=interaction.user.id, package=package)
        await interaction.followup.send(pay_message(started), view=pay_view(started),
                                        ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Packages(bot))
