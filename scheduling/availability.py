"""A coach's availability: weekly windows, date overrides and the schedule's timezone
(`/availability ...`), and the data of the readable week that `/availability list` shows.

Weekly windows are wall-clock minutes in the schedule's timezone. Windows of one weekday that
overlap or touch are merged when stored. A date override replaces that date's weekly hours
(override windows of one date are merged too); an override without hours blocks the date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from scheduling.coach_access import CoachRecord
from scheduling.errors import InvalidInput, NotFound
from scheduling.schedules import (
    DEFAULT_SCHEDULE,
    ScheduleRecord,
    normalise_schedule_name,
    resolve_schedule,
)
from scheduling.slots import (
    MinuteWindow,
    WeeklyWindow,
    load_zone,
    merge_windows,
    wall_clock,
    weekday_name,
)
from scheduling.timeparse import format_minutes, parse_window
from scheduling.timezones import resolve_timezone
from scheduling.week_view import WindowOccurrence, next_occurrences, render_week

MAX_WINDOWS_PER_DAY = 12
MAX_DAYS_AHEAD = 366
SUGGESTED_DAYS = 14
MAX_LISTED_OVERRIDES = 20
_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


# ---------------------------------------------------------------- ports


class WindowRecord(Protocol):
    weekday: int
    start_minute: int
    end_minute: int


class OverrideRecord(Protocol):
    day: date
    start_minute: int | None
    end_minute: int | None


class AvailabilitySchedules(Protocol):
    async def get_by_name(self, coach_id: int, name: str) -> ScheduleRecord | None: ...

    async def list_for_coach(self, coach_id: int) -> Sequence[ScheduleRecord]: ...

    async def create(self, *, coach_id: int, name: str, timezone: str,
                     is_default: bool = False) -> ScheduleRecord: ...

    async def lock(self, schedule_id: int) -> None: ...

    async def set_timezone(self, schedule_id: int, timezone: str) -> ScheduleRecord: ...

    async def windows(self, schedule_id: int, weekday: int | None = None
                      ) -> Sequence[WindowRecord]: ...

    async def replace_windows(self, schedule_id: int, weekday: int,
                              windows: Iterable[tuple[int, int]]) -> Sequence[WindowRecord]: ...

    async def clear_windows(self, schedule_id: int, weekday: int | None = None) -> int: ...

    async def overrides(self, schedule_id: int, *, since: date | None = None,
                        day: date | None = None) -> Sequence[OverrideRecord]: ...

    async def replace_overrides(self, schedule_id: int, day: date,
                                windows: Iterable[tuple[int, int]] | None
                                ) -> Sequence[OverrideRecord]: ...

    async def remove_overrides(self, schedule_id: int, day: date) -> int: ...


class AvailabilityCoaches(Protocol):
    async def get_by_user(self, guild_id: int, user_id: int) -> CoachRecord | None: ...

    async def update_profile(self, coach: Any, **values: Any) -> CoachRecord: ...


class AvailabilityUnitOfWork(Protocol):
    schedules: AvailabilitySchedules
    coaches: AvailabilityCoaches


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class ScheduleRef:
    name: str
    timezone: str
    is_default: bool
    created: bool = False

    @property
    def label(self) -> str:
        """`your default schedule` / `your schedule "evenings"`, for replies."""
        return ("your default schedule" if self.is_default
                else f"your schedule `{self.name}`")


@dataclass(frozen=True)
class WeeklyChange:
    """One weekday's hours before and after `add` or `remove` (merged, sorted)."""

    schedule: ScheduleRef
    weekday: int
    window: MinuteWindow
    before: tuple[MinuteWindow, ...]
    after: tuple[MinuteWindow, ...]

    @property
    def unchanged(self) -> bool:
        return self.before == self.after

    @property
    def merged(self) -> bool:
        """The added window joined hours the day already had (or stored windows were joined)."""
        return not self.unchanged and len(self.after) < len(self.before) + 1


@dataclass(frozen=True)
class ClearResult:
    schedule: ScheduleRef
    weekday: int | None  # None: every weekday
    removed: dict[int, tuple[MinuteWindow, ...]]  # the hours each weekday had


@dataclass(frozen=True)
class OverrideState:
    day: date
    off: bool
    windows: tuple[MinuteWindow, ...]


@dataclass(frozen=True)
class OverrideChange:
    schedule: ScheduleRef
    day: date
    before: OverrideState | None  # None: the weekly hours applied
    after: OverrideState | None  # None: the override was removed
    weekly: tuple[MinuteWindow, ...]  # the weekday's weekly hours, for comparison
    merged: bool = False


@dataclass(frozen=True)
class TimezoneChange:
    schedule: ScheduleRef
    before: str
    after: str
    profile_updated: bool


@dataclass(frozen=True)
class UpcomingOverride:
    day: date
    off: bool
    windows: tuple[WindowOccurrence, ...]


@dataclass(frozen=True)
class WeekView:
    schedule: ScheduleRef
    lines: tuple[str, ...]  # "Times in ...", then "Monday: 09:00–12:00, 13:00–17:00", ...
    occurrences: tuple[WindowOccurrence, ...]  # next occurrence of each window, soonest first
    overrides: tuple[UpcomingOverride, ...]  # today and later, by date
    more_overrides: int  # upcoming overrides not listed
    schedules: tuple[str, ...]  # all the coach's schedule names, default first

    @property
    def has_hours(self) -> bool:
        return bool(self.occurrences)


# ---------------------------------------------------------------- small helpers


def hours_text(windows: Iterable[MinuteWindow]) -> str:
    """`09:00–12:00, 13:00–17:00`, or `no hours`."""
    text = ", ".join(f"{format_minutes(a)}–{format_minutes(b)}" for a, b in windows)
    return text or "no hours"


def day_label(day: date) -> str:
    """`Mon 23 Nov 2026` (English, whatever the locale)."""
    return f"{_WEEKDAY_ABBR[day.weekday()]} {day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"


def parse_day(text: str) -> date:
    """A calendar date typed as YYYY-MM-DD."""
    match = _ISO_DATE.match(text or "")
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    shown = (text or "").strip()[:30] or "(empty)"
    raise InvalidInput(f"`{shown}` is not a date. Use YYYY-MM-DD (for example 2026-12-01) or "
                       "pick a day from the suggestions.")


def subtract_window(windows: Iterable[MinuteWindow], cut: MinuteWindow
                    ) -> tuple[MinuteWindow, ...]:
    """``windows`` without the minutes of ``cut``; a window around it is split in two."""
    cut_start, cut_end = cut
    kept: list[MinuteWindow] = []
    for start, end in windows:
        if end <= cut_start or start >= cut_end:
            kept.append((start, end))
            continue
        if start < cut_start:
            kept.append((start, cut_start))
        if cut_end < end:
            kept.append((cut_end, end))
    return merge_windows(kept)


def check_weekday(weekday: int) -> int:
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise InvalidInput("Pick a weekday from Monday to Sunday.")
    return weekday


def _check_count(windows: Sequence[MinuteWindow], what: str) -> None:
    if len(windows) > MAX_WINDOWS_PER_DAY:
        raise InvalidInput(f"{what} would have {len(windows)} separate time windows; the limit "
                           f"is {MAX_WINDOWS_PER_DAY}. Join some of them into longer windows.")


def _ref(schedule: ScheduleRecord, created: bool = False) -> ScheduleRef:
    return ScheduleRef(schedule.name, schedule.timezone, schedule.is_default, created)


def _day_windows(rows: Iterable[WindowRecord], weekday: int) -> tuple[MinuteWindow, ...]:
    return merge_windows((r.start_minute, r.end_minute) for r in rows if r.weekday == weekday)


def _override_state(day: date, rows: Iterable[OverrideRecord]) -> OverrideState | None:
    rows = [r for r in rows if r.day == day]
    if not rows:
        return None
    windows = merge_windows((r.start_minute, r.end_minute) for r in rows
                            if r.start_minute is not None and r.end_minute is not None)
    return OverrideState(day, off=not windows, windows=windows)


def today_in(timezone: str, now: datetime) -> date:
    return now.astimezone(load_zone(timezone)).date()


async def _schedule(uow: AvailabilityUnitOfWork, coach: CoachRecord, name: str | None, *,
                    create: bool) -> tuple[ScheduleRecord, bool]:
    """The schedule, locked for this transaction, and whether it was created now."""
    existed = await uow.schedules.get_by_name(coach.id, normalise_schedule_name(name))
    schedule = await resolve_schedule(uow, coach, name, create=create)
    await uow.schedules.lock(schedule.id)
    return schedule, existed is None


# ---------------------------------------------------------------- weekly hours


async def add_window(uow: AvailabilityUnitOfWork, coach: CoachRecord, *, weekday: int,
                     start: str, end: str, schedule: str | None = None) -> WeeklyChange:
    """Add hours to a weekday; windows that overlap or touch are merged."""
    check_weekday(weekday)
    window = parse_window(start, end)
    record, created = await _schedule(uow, coach, schedule, create=True)
    before = _day_windows(await uow.schedules.windows(record.id, weekday), weekday)
    after = merge_windows([*before, window])
    _check_count(after, weekday_name(weekday))
    if after != before:
        await uow.schedules.replace_windows(record.id, weekday, after)
    return WeeklyChange(_ref(record, created), weekday, window, before, after)


async def remove_window(uow: AvailabilityUnitOfWork, coach: CoachRecord, *, weekday: int,
                        start: str, end: str, schedule: str | None = None) -> WeeklyChange:
    """Remove exactly ``start``–``end`` from a weekday (splitting a window if needed);
    NotFound when the weekday has no hours in that range."""
    check_weekday(weekday)
    window = parse_window(start, end)
    record, _ = await _schedule(uow, coach, schedule, create=False)
    before = _day_windows(await uow.schedules.windows(record.id, weekday), weekday)
    after = subtract_window(before, window)
    if after == before:
        ref = _ref(record)
        raise NotFound(
            f"Nothing to remove: {weekday_name(weekday)} has no hours between "
            f"{format_minutes(window[0])} and {format_minutes(window[1])} in {ref.label}. "
            f"{weekday_name(weekday)}: {hours_text(before)}."
        )
    _check_count(after, weekday_name(weekday))
    await uow.schedules.replace_windows(record.id, weekday, after)
    return WeeklyChange(_ref(record), weekday, window, before, after)


async def clear_windows(uow: AvailabilityUnitOfWork, coach: CoachRecord, *,
                        weekday: int | None = None, schedule: str | None = None) -> ClearResult:
    """Remove all weekly hours of one weekday, or of the whole week. Overrides stay."""
    if weekday is not None:
        check_weekday(weekday)
    record, _ = await _schedule(uow, coach, schedule, create=False)
    rows = await uow.schedules.windows(record.id, weekday)
    removed = {day: _day_windows(rows, day) for day in sorted({r.weekday for r in rows})}
    if rows:
        await uow.schedules.clear_windows(record.id, weekday)
    return ClearResult(_ref(record), weekday, removed)


# ---------------------------------------------------------------- date overrides


def check_override_day(day: date, today: date) -> None:
    if day < today:
        raise InvalidInput(f"{day_label(day)} is in the past (today is {day_label(today)} in "
                           "your schedule's timezone). Pick today or a later date.")
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(f"{day_label(day)} is more than {MAX_DAYS_AHEAD} days ahead. "
                           "Pick a date within the next year.")


async def set_override(
    uow: AvailabilityUnitOfWork, coach: CoachRecord, *, day: str, now: datetime,
    start: str | None = None, end: str | None = None, off: bool = False,
    schedule: str | None = None,
) -> OverrideChange:
    """Block a date (``off``) or give it hours (``start``–``end``) instead of its weekly hours;
    hours added to a date that has override hours already are merged with them."""
    the_day = parse_day(day)
    label = day_label(the_day)
    if off and (start is not None or end is not None):
        raise InvalidInput(f"Choose either `off: True` to block {label} or `start` and `end` for "
                           "its hours, not both.")
    if not off and start is None and end is None:
        raise InvalidInput(f"Say what {label} should be: `off: True` blocks the day, `start` and "
                           "`end` give it hours. `/availability override-clear` brings back "
                           "your weekly hours.")
    if not off and (start is None or end is None):
        raise InvalidInput("Give both `start` and `end` for the hours of that day (for example "
                           "`start: 10` `end: 14`), or `off: True` to block it.")
    window = None if off else parse_window(start or "", end or "")
    record, created = await _schedule(uow, coach, schedule, create=True)
    check_override_day(the_day, today_in(record.timezone, now))
    before = _override_state(the_day, await uow.schedules.overrides(record.id, day=the_day))
    weekly = _day_windows(await uow.schedules.windows(record.id, the_day.weekday()),
                          the_day.weekday())
    merged = False
    if window is None:
        after = OverrideState(the_day, off=True, windows=())
    else:
        existing = before.windows if before is not None else ()
        windows = merge_windows([*existing, window])
        _check_count(windows, label)
        merged = bool(existing) and window not in windows
        after = OverrideState(the_day, off=False, windows=windows)
    if after != before:
        await uow.schedules.replace_overrides(record.id, the_day,
                                              None if after.off else after.windows)
    return OverrideChange(_ref(record, created), the_day, before, after, weekly, merged)


async def clear_override(uow: AvailabilityUnitOfWork, coach: CoachRecord, *, day: str,
                         schedule: str | None = None) -> OverrideChange:
    """Drop a date's override so its weekly hours apply again; NotFound when it has none."""
    the_day = parse_day(day)
    record, _ = await _schedule(uow, coach, schedule, create=False)
    before = _override_state(the_day, await uow.schedules.overrides(record.id, day=the_day))
    if before is None:
        raise NotFound(f"{day_label(the_day)} has no override in {_ref(record).label}; its "
                       "weekly hours apply already. `/availability list` shows your overrides.")
    await uow.schedules.remove_overrides(record.id, the_day)
    weekly = _day_windows(await uow.schedules.windows(record.id, the_day.weekday()),
                          the_day.weekday())
    return OverrideChange(_ref(record), the_day, before, None, weekly)


# ---------------------------------------------------------------- timezone


async def set_timezone(uow: AvailabilityUnitOfWork, coach: CoachRecord, *, timezone: str,
                       schedule: str | None = None) -> TimezoneChange:
    """Set a schedule's timezone; for the default schedule the coach's profile timezone too.
    Hours keep their wall-clock times."""
    zone = resolve_timezone(timezone)
    record, _ = await _schedule(uow, coach, schedule, create=False)
    before = record.timezone
    if before != zone:
        record = await uow.schedules.set_timezone(record.id, zone)
    profile_updated = False
    if record.is_default and coach.timezone != zone:
        await uow.coaches.update_profile(coach, timezone=zone)
        profile_updated = True
    return TimezoneChange(_ref(record), before, zone, profile_updated)


# ---------------------------------------------------------------- the week for humans


def _occurrence(day: date, weekday: int, window: MinuteWindow, zone: ZoneInfo
                ) -> WindowOccurrence:
    start = wall_clock(day, window[0], zone).astimezone(UTC)
    end = wall_clock(day, window[1], zone).astimezone(UTC)
    return WindowOccurrence(weekday, window[0], window[1], start, end)


def _weekly_list(weekly: dict[int, tuple[MinuteWindow, ...]]) -> list[WeeklyWindow]:
    return [WeeklyWindow(day, a, b) for day, windows in weekly.items() for a, b in windows]


async def week_view(uow: AvailabilityUnitOfWork, coach: CoachRecord, *, now: datetime,
                    schedule: str | None = None) -> WeekView:
    """The readable week of a schedule, the next occurrence of each window and the upcoming
    overrides (today's included)."""
    record = await resolve_schedule(uow, coach, schedule, create=False)
    zone = load_zone(record.timezone)
    today = now.astimezone(zone).date()
    rows = await uow.schedules.windows(record.id)
    weekly = {weekday: _day_windows(rows, weekday) for weekday in range(7)}
    override_rows = await uow.schedules.overrides(record.id, since=today)
    days = sorted({r.day for r in override_rows})
    upcoming = []
    for day in days[:MAX_LISTED_OVERRIDES]:
        state = _override_state(day, override_rows)
        assert state is not None
        upcoming.append(UpcomingOverride(day, state.off, tuple(
            _occurrence(day, day.weekday(), w, zone) for w in state.windows)))
    lines = render_week(_weekly_list(weekly), record.timezone, reference=today)
    schedules = tuple(s.name for s in await uow.schedules.list_for_coach(coach.id))
    return WeekView(
        schedule=_ref(record),
        lines=tuple(lines),
        occurrences=tuple(sorted(
            next_occurrences(_weekly_list(weekly), record.timezone, now=now, skip=days),
            key=lambda o: (o.start, o.end))),
        overrides=tuple(upcoming),
        more_overrides=max(0, len(days) - MAX_LISTED_OVERRIDES),
        schedules=schedules or (DEFAULT_SCHEDULE,),
    )


# ---------------------------------------------------------------- autocomplete data


def date_suggestions(query: str, today: date, *, days: int = SUGGESTED_DAYS
                     ) -> list[tuple[str, str]]:
    """(`Mon 23 Nov 2026`, `2026-11-23`) for the next ``days`` days from ``today`` that match
    what was typed; a complete date further ahead (within a year) is offered first."""
    wanted = (query or "").strip().lower()
    choices = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        name, value = day_label(day), day.isoformat()
        if not wanted or wanted in value or wanted in name.lower():
            choices.append((name, value))
    try:
        typed = parse_day(query) if wanted else None
    except InvalidInput:
        typed = None
    if (typed is not None and today <= typed <= today + timedelta(days=MAX_DAYS_AHEAD)
            and all(value != typed.isoformat() for _, value in choices)):
        choices.insert(0, (day_label(typed), typed.isoformat()))
    return choices[:25]


async def schedule_names(uow: AvailabilityUnitOfWork, *, guild_id: int, user_id: int
                         ) -> list[str]:
    """The caller's schedule names (default first); empty for members without a profile."""
    coach = await uow.coaches.get_by_user(guild_id, user_id)
    if coach is None:
        return []
    return [s.name for s in await uow.schedules.list_for_coach(coach.id)]


async def coach_today(uow: AvailabilityUnitOfWork, *, guild_id: int, user_id: int,
                      schedule: str | None, now: datetime) -> date:
    """Today in the timezone of the named schedule (or the coach's), for date suggestions."""
    coach = await uow.coaches.get_by_user(guild_id, user_id)
    timezone = "UTC" if coach is None else coach.timezone
    if coach is not None:
        try:
            record = await uow.schedules.get_by_name(coach.id, normalise_schedule_name(schedule))
        except InvalidInput:
            record = None
        if record is not None:
            timezone = record.timezone
    return today_in(timezone, now)


async def upcoming_override_days(uow: AvailabilityUnitOfWork, *, guild_id: int, user_id: int,
                                 schedule: str | None, now: datetime) -> list[OverrideState]:
    """The caller's overrides from today on, for `override-clear` suggestions."""
    coach = await uow.coaches.get_by_user(guild_id, user_id)
    if coach is None:
        return []
    try:
        record = await uow.schedules.get_by_name(coach.id, normalise_schedule_name(schedule))
    except InvalidInput:
        return []
    if record is None:
        return []
    rows = await uow.schedules.overrides(record.id, since=today_in(record.timezone, now))
    states = (_override_state(day, rows) for day in sorted({r.day for r in rows}))
    return [state for state in states if state is not None]
