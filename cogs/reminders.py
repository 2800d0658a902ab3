"""`/reminders on|off|offsets|show`: a student's reminder DMs for their sessions.

Preferences follow the member everywhere (servers and DMs). A change applies to reminders not
sent yet of their upcoming sessions too; coaches' reminders are not affected.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from bot.lifecycle import bookings_changed
from scheduling.lifecycle import (
    KEEP,
    Keep,
    PreferenceChange,
    change_reminder_preference,
    describe_preference,
    parse_student_offsets,
    reminder_preference,
)


def _reply(change: PreferenceChange) -> str:
    text = describe_preference(change.preference)
    count = len(change.booking_ids)
    if count:
        text += (f" Updated for your {count} upcoming session{'s' if count != 1 else ''}; "
                 "reminders already sent stay as they were.")
    return text


class Reminders(commands.Cog):
    reminders = app_commands.Group(name="reminders",
                                   description="Your reminder DMs before your sessions")

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def _change(self, interaction: discord.Interaction, *, enabled: bool,
                      offsets: tuple[int, ...] | Keep | None = KEEP) -> None:
        services = self.bot.services
        change = await change_reminder_preference(services.uow, interaction.user.id,
                                                  now=services.clock(), enabled=enabled,
                                                  offsets=offsets)
        await bookings_changed(self.bot, change.booking_ids)
        await interaction.response.send_message(_reply(change), ephemeral=True)

    @reminders.command(name="on", description="Get reminder DMs before your sessions")
    async def on(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, enabled=True)

    @reminders.command(name="off", description="No more reminder DMs for your sessions")
    async def off(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, enabled=False)

    @reminders.command(name="offsets", description="Choose when reminders come, like 24h, 1h")
    @app_commands.describe(times="How long before each session, comma-separated (e.g. `24h, "
                                 "1h`); `default` for each offering's own; `none` for only "
                                 "the one at the start")
    async def offsets(self, interaction: discord.Interaction,
                      times: app_commands.Range[str, 1, 200]) -> None:
        parsed = parse_student_offsets(times)
        await self._change(interaction, enabled=True, offsets=parsed)

    @reminders.command(name="show", description="Show your reminder settings")
    async def show(self, interaction: discord.Interaction) -> None:
        preference = await reminder_preference(self.bot.services.uow, interaction.user.id)
        await interaction.response.send_message(describe_preference(preference),
                                                ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Reminders(bot))
