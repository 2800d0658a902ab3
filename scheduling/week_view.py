"""A coach's weekly hours for humans (``/availability list``).

``render_week`` gives text lines in the coach's own zone; ``next_occurrences`` gives each merged
window's next occurrence as UTC instants, which ``discord_timestamp`` turns into ``<t:UNIX:t>``
markup that every Discord client shows in the reader's own timezone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduling.slots import (
    SlotArgumentError,
    WeeklyWindow,
    load_zone,
    wall_clock,
    weekday_name,
    weekly_by_day,
)
from scheduling.timeparse import format_minutes
from scheduling.timezones import describe_timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_WEEK = timedelta(days=7)
_STYLES = frozenset("tTdDfFR")


@dataclass(frozen=True, slots=True)
class WindowOccurrence:
    """The next occurrence of a merged weekly window: wall-clock minutes in the coach's zone
    and the UTC-aware instants they fall on."""

    weekday: int
    start_minute: int
    end_minute: int
    start: datetime
    end: datetime


def render_week(weekly: Sequence[WeeklyWindow], tz: str, *, reference: date) -> list[str]:
    """A header naming the zone (abbreviation and offset on ``reference``), then one line per
    weekday, Monday first, with merged windows: ``"Monday: 09:00–12:00, 13:00–17:00"``;
    a day without hours reads ``"Sunday: unavailable"``."""
    zone = load_zone(tz)
    noon = datetime.combine(reference, time(12), tzinfo=zone)
    lines = [f"Times in {describe_timezone(tz, noon)}"]
    for weekday, windows in weekly_by_day(weekly).items():
        hours = ", ".join(f"{format_minutes(a)}–{format_minutes(b)}" for a, b in windows)
        lines.append(f"{weekday_name(weekday)}: {hours or 'unavailable'}")
    return lines


def next_occurrences(
    weekly: Sequence[WeeklyWindow], tz: str, *, now: datetime, skip: Iterable[date] = ()
) -> list[WindowOccurrence]:
    """For each merged window (Monday first), its current or next occurrence: the first one
    that ends after ``now``, skipping local dates in ``skip`` (e.g. dates with an override) and
    an occurrence that a spring-forward gap leaves empty."""
    zone = load_zone(tz)
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise SlotArgumentError("The current time must be a date and time with a timezone.")
    skipped = frozenset(skip)
    today = now.astimezone(zone).date()
    occurrences = []
    for weekday, windows in weekly_by_day(weekly).items():
        # The latest date with this weekday on or before today; an earlier one has ended.
        first_day = today - timedelta(days=(today.weekday() - weekday) % 7)
        for start_minute, end_minute in windows:
            day = first_day
            while True:
                start = wall_clock(day, start_minute, zone).astimezone(UTC)
                end = wall_clock(day, end_minute, zone).astimezone(UTC)
                if start < end and end > now and day not in skipped:
                    break
                day += _WEEK
            occurrences.append(WindowOccurrence(weekday, start_minute, end_minute, start, end))
    return occurrences


def discord_timestamp(moment: datetime, style: str = "t") -> str:
    """Discord markup ``<t:UNIX:style>`` for an aware datetime; styles are ``t T d D f F R``."""
    if style not in _STYLES:
        raise ValueError(f"Unknown Discord timestamp style {style!r}; use one of t T d D f F R.")
    if moment.utcoffset() is None:
        raise ValueError("A Discord timestamp needs a datetime with a timezone.")
    return f"<t:{(moment - _EPOCH) // _SECOND}:{style}>"
