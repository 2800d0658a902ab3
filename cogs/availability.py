"""`/availability ...`: a coach's weekly hours, date overrides and timezone.

Every command takes an optional schedule name (the default schedule otherwise); `add` and
`override` create a named schedule on first use. Times are wall-clock times in the schedule's
timezone. `override` replaces a date's weekly hours (`off: True` blocks the date) and
`override-clear` removes a date's override so its weekly hours apply again. `clear` removes
weekly hours only; overrides stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from bot.waitlist import availability_opened
from cogs._coach_views import timezone_choices, who
from scheduling import availability as service
from scheduling.availability import (
    ClearResult,
    OverrideChange,
    TimezoneChange,
    WeeklyChange,
    WeekView,
    day_label,
    hours_text,
)
from scheduling.coach_access import CoachAccessUnitOfWork, CoachRecord, require_coach
from scheduling.slots import weekday_name
from scheduling.timezones import describe_timezone
from scheduling.week_view import WindowOccurrence, discord_timestamp

WEEKDAYS = [app_commands.Choice(name=weekday_name(day), value=day) for day in range(7)]
FIELD_LIMIT = 1024
LIST_COLOUR = discord.Colour.teal()


# ---------------------------------------------------------------- replies


def _window(start: int, end: int) -> str:
    return hours_text([(start, end)])


def _created(ref: service.ScheduleRef) -> str:
    """A note that a named schedule was just created (the default one is implied)."""
    if not ref.created or ref.is_default:
        return ""
    return f"Created {ref.label} (timezone {ref.timezone}).\n"


def added_text(change: WeeklyChange) -> str:
    day, ref = weekday_name(change.weekday), change.schedule
    window = _window(*change.window)
    if change.unchanged:
        return (f"{day} {window} is already within your hours in {ref.label} "
                f"({day}: {hours_text(change.after)}). Nothing changed.")
    text = f"{_created(ref)}Added {day} {window} to {ref.label} (times in {ref.timezone}).\n"
    if change.merged:
        text += ("It overlapped or touched hours you already had, so they were merged: "
                 f"{day} is now {hours_text(change.after)}.")
    else:
        text += f"{day}: {hours_text(change.after)}."
    return text


def removed_text(change: WeeklyChange) -> str:
    day, ref = weekday_name(change.weekday), change.schedule
    after = hours_text(change.after) if change.after else "no hours left"
    return f"Removed {day} {_window(*change.window)} from {ref.label}. {day}: {after}."


def cleared_text(result: ClearResult) -> str:
    ref = result.schedule
    if not result.removed:
        which = weekday_name(result.weekday) if result.weekday is not None else "The week"
        return f"{which} had no weekly hours in {ref.label}; nothing to clear."
    was = "; ".join(f"{weekday_name(day)} {hours_text(windows)}"
                    for day, windows in result.removed.items())
    which = weekday_name(result.weekday) if result.weekday is not None else "all weekly hours"
    return (f"Cleared {which} in {ref.label} (was: {was}). Date overrides are kept; "
            "`/availability list` shows them.")


def override_text(change: OverrideChange) -> str:
    ref, label = change.schedule, day_label(change.day)
    weekly = hours_text(change.weekly)
    after = change.after
    assert after is not None
    if change.before == after:
        state = "blocked" if after.off else f"set to {hours_text(after.windows)}"
        return f"{label} is already {state} in {ref.label}. Nothing changed."
    if after.off:
        return (f"{_created(ref)}Blocked {label} in {ref.label}: no new sessions can be booked "
                f"that day (its weekly hours are {weekly}). Sessions already booked that day "
                "are not cancelled. `/availability override-clear` undoes this.")
    text = (f"{_created(ref)}On {label} you are available {hours_text(after.windows)} "
            f"(times in {ref.timezone}) instead of your weekly hours ({weekly}).")
    if change.merged:
        text += "\nMerged with the hours you had already set for that day."
    if change.before is not None and change.before.off:
        text += "\nThe day was blocked before; now it has these hours."
    return text


def override_cleared_text(change: OverrideChange) -> str:
    before = change.before
    assert before is not None
    was = "blocked" if before.off else hours_text(before.windows)
    return (f"Removed the override of {day_label(change.day)} (was {was}) from "
            f"{change.schedule.label}. Its weekly hours apply again: "
            f"{hours_text(change.weekly)}.")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def timezone_text(change: TimezoneChange, now: datetime) -> str:
    ref = change.schedule
    described = describe_timezone(change.after, now)
    if change.before == change.after and not change.profile_updated:
        return f"{_capital(ref.label)} already uses {described}. Nothing changed."
    text = f"{_capital(ref.label)} now uses {described}"
    text += "; so does your coach profile." if change.profile_updated else "."
    return text + ("\nYour hours keep their wall-clock times (9:00 stays 9:00), now read in "
                   "the new timezone.")


def _fit(lines: Iterable[str], limit: int = FIELD_LIMIT, *, more: int = 0) -> str:
    """Lines joined while they fit in ``limit`` characters, then how many were left out
    (``more`` counts lines that were never given)."""
    lines = list(lines)
    kept: list[str] = []
    for index, line in enumerate(lines):
        rest = len(lines) - index - 1 + more
        tail = [f"… and {rest} more"] if rest else []
        if len("\n".join([*kept, line, *tail])) > limit:
            return "\n".join([*kept, f"… and {rest + 1} more"])
        kept.append(line)
    return "\n".join([*kept, *([f"… and {more} more"] if more else [])])


def _timed(window: WindowOccurrence) -> str:
    return f"{discord_timestamp(window.start, 'f')} – {discord_timestamp(window.end, 't')}"


def week_embed(view: WeekView, owner: str) -> discord.Embed:
    ref = view.schedule
    title = f"Availability of {owner}"
    if not ref.is_default:
        title += f" · {ref.name}"
    description = "\n".join(view.lines)
    if not view.has_hours:
        description += "\n\nNo weekly hours yet: add some with `/availability add`."
    embed = discord.Embed(title=title[:256], description=description, colour=LIST_COLOUR)
    if view.occurrences:
        lines = [f"{weekday_name(o.weekday)[:3]} {_timed(o)}" for o in view.occurrences]
        embed.add_field(name="Next times, in your own timezone", value=_fit(lines),
                        inline=False)
    if view.overrides:
        lines = []
        for override in view.overrides:
            if override.off:
                lines.append(f"{day_label(override.day)}: off")
            else:
                hours = ", ".join(
                    f"{_window(w.start_minute, w.end_minute)} ({_timed(w)})"
                    for w in override.windows)
                lines.append(f"{day_label(override.day)}: {hours}")
        embed.add_field(name="Date overrides (replace the weekly hours of that day)",
                        value=_fit(lines, more=view.more_overrides), inline=False)
    if len(view.schedules) > 1:
        embed.set_footer(text="Schedules: " + ", ".join(view.schedules))
    return embed


# ---------------------------------------------------------------- the cog


class Availability(commands.Cog):
    availability = app_commands.Group(
        name="availability", description="Your weekly hours, days off and timezone",
        guild_only=True)

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    def _now(self) -> datetime:
        return self.bot.services.clock()

    @staticmethod
    async def _coach(uow: CoachAccessUnitOfWork, interaction: discord.Interaction
                     ) -> CoachRecord:
        caller = who(interaction)
        return await require_coach(uow, guild_id=caller["guild_id"], user_id=caller["user_id"],
                                   role_ids=caller["role_ids"],
                                   display_name=caller["display_name"])

    # ------------------------------------------------------------ autocomplete

    async def schedule_choices(self, interaction: discord.Interaction, current: str
                               ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:
            names = await service.schedule_names(uow, guild_id=interaction.guild_id,
                                                 user_id=interaction.user.id)
        wanted = current.strip().lower()
        return [app_commands.Choice(name=name, value=name)
                for name in names if wanted in name][:25]

    async def date_choices(self, interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:
            today = await service.coach_today(
                uow, guild_id=interaction.guild_id, user_id=interaction.user.id,
                schedule=getattr(interaction.namespace, "schedule", None), now=self._now())
        return [app_commands.Choice(name=name, value=value)
                for name, value in service.date_suggestions(current, today)]

    async def override_choices(self, interaction: discord.Interaction, current: str
                               ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:
            states = await service.upcoming_override_days(
                uow, guild_id=interaction.guild_id, user_id=interaction.user.id,
                schedule=getattr(interaction.namespace, "schedule", None), now=self._now())
        wanted = current.strip().lower()
        choices = []
        for state in states:
            what = "off" if state.off else hours_text(state.windows)
            name = f"{day_label(state.day)} · {what}"[:100]
            if wanted in name.lower() or wanted in state.day.isoformat():
                choices.append(app_commands.Choice(name=name, value=state.day.isoformat()))
        return choices[:25]

    # ------------------------------------------------------------ weekly hours

    @availability.command(name="add", description="Add weekly hours to a weekday")
    @app_commands.describe(weekday="The day of the week", start="From, e.g. 9, 9:30, 9am",
                           end="Until, e.g. 17:00, 5pm, 24:00",
                           schedule="Schedule name (your default schedule when left out)")
    @app_commands.choices(weekday=WEEKDAYS)
    @app_commands.autocomplete(schedule=schedule_choices)
    async def add(self, interaction: discord.Interaction, weekday: app_commands.Choice[int],
                  start: str, end: str, schedule: str | None = None) -> None:
        async with self.bot.services.uow(immediate=True) as uow:
            coach = await self._coach(uow, interaction)
            change = await service.add_window(uow, coach, weekday=weekday.value, start=start,
                                              end=end, schedule=schedule)
            await uow.commit()
        await interaction.response.send_message(added_text(change), ephemeral=True)
        await availability_opened(self.bot, coach.id)  # new hours: offer them to the waitlist

    @availability.command(name="remove", description="Remove a time range from a weekday")
    @app_commands.describe(weekday="The day of the week", start="From, e.g. 12 or 12:00",
                           end="Until, e.g. 13 or 1pm",
                           schedule="Schedule name (your default schedule when left out)")
    @app_commands.choices(weekday=WEEKDAYS)
    @app_commands.autocomplete(schedule=schedule_choices)
    async def remove(self, interaction: discord.Interaction, weekday: app_commands.Choice[int],
                     start: str, end: str, schedule: str | None = None) -> None:
        async with self.bot.services.uow(immediate=True) as uow:
            coach = await self._coach(uow, interaction)
            change = await service.remove_window(uow, coach, weekday=weekday.value,
                                                 start=start, end=end, schedule=schedule)
            await uow.commit()
        await interaction.response.send_message(removed_text(change), ephemeral=True)

    @availability.command(name="clear",
                          description="Remove the weekly hours of one weekday or the whole week")
    @app_commands.describe(weekday="Only this day (the whole week when left out)",
                           schedule="Schedule name (your default schedule when left out)")
    @app_commands.choices(weekday=WEEKDAYS)
    @app_commands.autocomplete(schedule=schedule_choices)
    async def clear(self, interaction: discord.Interaction,
                    weekday: app_commands.Choice[int] | None = None,
                    schedule: str | None = None) -> None:
        async with self.bot.services.uow(immediate=True) as uow:
            coach = await self._coach(uow, interaction)
            result = await service.clear_windows(
                uow, coach, weekday=weekday.value if weekday is not None else None,
                schedule=schedule)
            await uow.commit()
        await interaction.response.send_message(cleared_text(result), ephemeral=True)

    @availability.command(name="list", description="Your week, upcoming overrides and timezone")
    @app_commands.describe(schedule="Schedule name (your default schedule when left out)",
                           share="Post it in this channel so others see the times too")
    @app_commands.autocomplete(schedule=schedule_choices)
    async def list_(self, interaction: discord.Interaction, schedule: str | None = None,
                    share: bool = False) -> None:
        async with self.bot.services.uow() as uow:
            coach = await self._coach(uow, interaction)
            view = await service.week_view(uow, coach, now=self._now(), schedule=schedule)
            await uow.commit()  # a first-time coach's profile and default schedule
        await interaction.response.send_message(
            embed=week_embed(view, coach.display_name), ephemeral=not share)

    # ------------------------------------------------------------ date overrides

    @availability.command(name="override",
                          description="Block a date or give it other hours than usual")
    @app_commands.rename(day="date")
    @app_commands.describe(day="The date, YYYY-MM-DD", start="From (with end: the day's hours)",
                           end="Until", off="True blocks the whole day",
                           schedule="Schedule name (your default schedule when left out)")
    @app_commands.autocomplete(day=date_choices, schedule=schedule_choices)
    async def override(self, interaction: discord.Interaction, day: str,
                       start: str | None = None, end: str | None = None, off: bool = False,
                       schedule: str | None = None) -> None:
        async with self.bot.services.uow(immediate=True) as uow:
            coach = await self._coach(uow, interaction)
            change = await service.set_override(uow, coach, day=day, now=self._now(),
                                                start=start, end=end, off=off,
                                                schedule=schedule)
            await uow.commit()
        await interaction.response.send_message(override_text(change), ephemeral=True)
        if not off:  # extra hours on that date may suit someone on the waitlist
            await availability_opened(self.bot, coach.id)

    @availability.command(name="override-clear",
                          description="Remove a date's override: its weekly hours apply again")
    @app_commands.rename(day="date")
    @app_commands.describe(day="A date with an override",
                           schedule="Schedule name (your default schedule when left out)")
    @app_commands.autocomplete(day=override_choices, schedule=schedule_choices)
    async def override_clear(self, interaction: discord.Interaction, day: str,
                             schedule: str | None = None) -> None:
        async with self.bot.services.uow(immediate=True) as uow:
            coach = await self._coach(uow, interaction)
            change = await service.clear_override(uow, coach, day=day, schedule=schedule)
            await uow.commit()
        await interaction.response.send_message(override_cleared_text(change), ephemeral=True)

    # ------------------------------------------------------------ timezone

    @availability.command(name="timezone", description="Set the timezone of a schedule")
    @app_commands.describe(name="Type a city or an abbreviation like CET",
                           schedule="Schedule name (your default schedule when left out)")
    @app_commands.autocomplete(name=timezone_choices, schedule=schedule_choices)
    async def timezone(self, interaction: discord.Interaction, name: str,
                       schedule: str | None = None) -> None:
        async with self.bot.services.uow(immediate=True) as uow:
            coach = await self._coach(uow, interaction)
            change = await service.set_timezone(uow, coach, timezone=name, schedule=schedule)
            await uow.commit()
        await interaction.response.send_message(timezone_text(change, self._now()),
                                                ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Availability(bot))
