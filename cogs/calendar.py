"""`/calendar link|reset`: a private calendar feed of the caller's sessions on this server (as
coach and as student) for Google Calendar, Outlook or Apple Calendar. See
`scheduling/calendar_feed.py`; the feed itself is served by `bot/web.py`."""

from __future__ import annotations

from typing import Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from scheduling import calendar_feed

HOW_TO: Final = ("Subscribe to it in your calendar app (Google Calendar: *Other calendars > From "
                 "URL*; Outlook: *Add calendar > Subscribe from web*; Apple Calendar: *File > New "
                 "Calendar Subscription*). It lists your upcoming sessions on this server, as "
                 "coach and as student. Keep it secret: anyone with the link sees your sessions. "
                 "`/calendar reset` replaces it.")
ALREADY: Final = ("You already have a calendar link. I keep only a fingerprint of it (like a "
                  "password), so I cannot show it again. Lost it? `/calendar reset` makes a new "
                  "one; the old one stops working.")


class Calendar(commands.Cog):
    calendar = app_commands.Group(name="calendar", guild_only=True,
                                  description="A private calendar feed of your sessions")

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    @calendar.command(name="link", description="Your private calendar feed link")
    async def link(self, interaction: discord.Interaction) -> None:
        await self._answer(interaction, rotate=False)

    @calendar.command(name="reset", description="Replace your calendar link (the old one stops "
                                                "working)")
    async def reset(self, interaction: discord.Interaction) -> None:
        await self._answer(interaction, rotate=True)

    async def _answer(self, interaction: discord.Interaction, *, rotate: bool) -> None:
        assert interaction.guild_id is not None
        services = self.bot.services
        action = calendar_feed.reset if rotate else calendar_feed.link
        async with services.uow(immediate=True) as uow:
            made = await action(uow, guild_id=interaction.guild_id, user_id=interaction.user.id,
                                public_url=services.settings.web.public_url,
                                now=services.clock())
            await uow.commit()
        if made.url is None:
            await interaction.response.send_message(ALREADY, ephemeral=True)
            return
        lead = ("New calendar link (the old one no longer works):" if rotate
                else "Your private calendar link:")
        await interaction.response.send_message(f"{lead}\n<{made.url}>\n{HOW_TO}",
                                                ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Calendar(bot))
