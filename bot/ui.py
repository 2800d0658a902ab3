"""Base classes for views and modals: owner checks and the shared error reporting."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import report_error

NOT_YOURS = "These buttons belong to someone else. Run the command yourself to get your own."


class OwnedView(discord.ui.View):
    """A view only its owner may use; errors become ephemeral replies."""

    def __init__(self, owner_id: int, *, timeout: float | None = 600) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)


class ReportingModal(discord.ui.Modal):
    """A modal whose errors become ephemeral replies."""

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)
