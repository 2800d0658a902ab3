"""Open slots: which start times a coach can offer.

A coach's hours are wall-clock windows in their IANA timezone (weekly, replaced per date by
overrides); busy intervals (bookings, holds, blocks) are absolute instants. ``open_slots`` expands
the windows of the local dates that can touch the query, merges the busy intervals once (widened by
the buffers and the session length) and sweeps the candidates with a moving pointer, so the cost is
linear in candidates plus busy intervals (after one sort).

Pure: no I/O, no clock (``now`` is an argument), nothing from discord, sqlalchemy, stripe or
apscheduler.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import compress, islice, repeat
from operator import itemgetter, le, sub
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.errors import InvalidInput
from scheduling.timeparse import format_minutes

MINUTES_PER_DAY = 1440
MAX_QUERY_RANGE = timedelta(days=366)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

MinuteWindow = tuple[int, int]


class SlotArgumentError(InvalidInput, ValueError):
    """A bad argument to the slot engine. It is a ``ValueError`` (the contract) and an
    ``InvalidInput`` (so the command tree shows its message to the user as is)."""


@dataclass(frozen=True, slots=True, order=True)
class WeeklyWindow:
    """Recurring hours: ``weekday`` 0=Monday..6=Sunday, minutes after local midnight,
    ``0 <= start_minute < end_minute <= 1440`` (1440 is the next day's 00:00)."""

    weekday: int
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        check_weekday(self.weekday)
        check_window(self.start_minute, self.end_minute)


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Hours for one local date, replacing its weekly windows; ``windows=()`` blocks the day."""

    day: date
    windows: tuple[MinuteWindow, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise SlotArgumentError(
                f"An override needs a calendar date such as 2025-03-30, not {self.day!r}."
            )
        try:
            windows = tuple((start, end) for start, end in self.windows)
        except (TypeError, ValueError):
            raise SlotArgumentError(
                "Override hours must be (start minute, end minute) pairs, e.g. (540, 1020)."
            ) from None
        for start, end in windows:
            check_window(start, end)
        object.__setattr__(self, "windows", windows)


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A bookable start time and its end, both UTC-aware."""

    start: datetime
    end: datetime


def weekday_name(weekday: int) -> str:
    """``0`` -> ``"Monday"``."""
    return _WEEKDAYS[weekday]


def check_weekday(weekday: int) -> None:
    """Raise ``SlotArgumentError`` unless ``weekday`` is an int from 0 (Monday) to 6 (Sunday)."""
    if not _is_int(weekday) or not 0 <= weekday <= 6:
        raise SlotArgumentError(f"The weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}.")


def check_window(start_minute: int, end_minute: int) -> None:
    """Raise ``SlotArgumentError`` unless ``0 <= start_minute < end_minute <= 1440``."""
    for minute in (start_minute, end_minute):
        if not _is_int(minute) or not 0 <= minute <= MINUTES_PER_DAY:
            raise SlotArgumentError(
                f"Times must be whole minutes from 0 (00:00) to 1440 (24:00), not {minute!r}."
            )
    if start_minute >= end_minute:
        raise SlotArgumentError(
            f"A time window must end after it starts: "
            f"{format_minutes(start_minute)}–{format_minutes(end_minute)} does not."
        )


def merge_windows(windows: Iterable[MinuteWindow]) -> tuple[MinuteWindow, ...]:
    """Sort minute windows and merge the ones that overlap or touch:
    ``[(600, 720), (540, 600)]`` -> ``((540, 720),)``."""
    merged: list[list[int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def weekly_by_day(weekly: Iterable[WeeklyWindow]) -> dict[int, tuple[MinuteWindow, ...]]:
    """Merged windows for each weekday 0..6 (a day without hours maps to ``()``)."""
    per_day: dict[int, list[MinuteWindow]] = {weekday: [] for weekday in range(7)}
    for window in weekly:
        check_weekday(window.weekday)
        check_window(window.start_minute, window.end_minute)
        per_day[window.weekday].append((window.start_minute, window.end_minute))
    return {weekday: merge_windows(windows) for weekday, windows in per_day.items()}


def overrides_by_date(overrides: Iterable[DateOverride]) -> dict[date, tuple[MinuteWindow, ...]]:
    """Merged windows for each overridden date; several overrides of one date are combined."""
    per_date: dict[date, list[MinuteWindow]] = {}
    for override in overrides:
        for start, end in override.windows:
            check_window(start, end)
        per_date.setdefault(override.day, []).extend(override.windows)
    return {day: merge_windows(windows) for day, windows in per_date.items()}


def load_zone(tz: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name, or ``SlotArgumentError`` with a helpful message."""
    if isinstance(tz, str) and tz.strip():
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise SlotArgumentError(
        f"Unknown timezone {tz!r}. Use an IANA name such as Europe/Berlin or America/New_York."
    )


def wall_clock(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The aware local datetime for ``minute`` after midnight of ``day`` in ``zone`` (1440 is
    00:00 of the next day). ``fold=0``: an ambiguous time is its first occurrence, a time in a
    spring-forward gap is read with the offset before the change."""
    if minute == MINUTES_PER_DAY:
        return datetime.combine(day + _ONE_DAY, _MIDNIGHT, tzinfo=zone)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)


def open_slots(
    *,
    tz: str,
    weekly: Sequence[WeeklyWindow],
    overrides: Sequence[DateOverride] = (),
    busy: Sequence[tuple[datetime, datetime]] = (),
    duration: timedelta,
    interval: timedelta | None = None,
    buffer_before: timedelta = timedelta(0),
    buffer_after: timedelta = timedelta(0),
    min_notice: timedelta = timedelta(0),
    horizon: timedelta | None = None,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """Start times the coach can offer whose start lies in ``[start, end)``, sorted, UTC-aware.

    Candidates run from each merged window's start every ``interval`` (default ``duration``)
    while ``start + duration <= window end``. A candidate is dropped if
    ``[start - buffer_before, start + duration + buffer_after)`` overlaps a busy interval
    (half-open: touching is fine), if it starts before ``now + min_notice`` or, with a
    ``horizon``, at or after ``now + horizon``. Bad arguments raise ``SlotArgumentError``, a
    ``ValueError`` whose message can be shown to the user.
    """
    zone = load_zone(tz)
    _check_length(duration, "The session length", positive=True)
    step = duration if interval is None else interval
    _check_length(step, "The slot interval", positive=True)
    _check_length(buffer_before, "The buffer before a session")
    _check_length(buffer_after, "The buffer after a session")
    _check_length(min_notice, "The minimum notice")
    if horizon is not None:
        _check_length(horizon, "The booking horizon")
    now_at = _since_epoch(now, "The current time")
    start_at = _since_epoch(start, "The start of the date range")
    end_at = _since_epoch(end, "The end of the date range")
    if start_at >= end_at:
        raise SlotArgumentError("The end of the date range must be after its start.")
    if end_at - start_at > MAX_QUERY_RANGE:
        raise SlotArgumentError("The date range can be at most 366 days long.")
    per_weekday = weekly_by_day(weekly)
    per_date = overrides_by_date(overrides)
    # A candidate s is blocked by busy [b0, b1) iff b0 - duration - after < s < b1 + before.
    blocks = _blocked_starts(busy, widen_low=duration + buffer_after, widen_high=buffer_before)
    lower = max(start_at, now_at + min_notice)
    upper = end_at if horizon is None else min(end_at, now_at + horizon)
    if lower >= upper:
        return []
    return _sweep(zone, per_weekday, per_date, blocks, lower, upper, duration, step)


def _sweep(
    zone: ZoneInfo,
    per_weekday: dict[int, tuple[MinuteWindow, ...]],
    per_date: dict[date, tuple[MinuteWindow, ...]],
    blocks: tuple[list[timedelta], list[timedelta]],
    lower: timedelta,
    upper: timedelta,
    duration: timedelta,
    step: timedelta,
) -> list[Slot]:
    """Expand the windows day by day and keep the candidates in ``[lower, upper)`` (offsets
    from the epoch) that no merged block, an open interval of start offsets, contains."""
    block_lows, block_highs = blocks
    n_blocks = len(block_highs)
    latest = upper - _MICROSECOND
    keys: list[timedelta] = []
    slots: list[Slot] = []
    ordered = True
    previous = lower - _MICROSECOND
    # A window of local date D lies between D 00:00 and D+1 00:00 read with offsets that differ
    # from the true ones by at most one zone jump (never more than 24 hours), so a candidate
    # whose true local date is L comes from D in L-1..L+1: one extra day on each side suffices.
    day = (_EPOCH + lower).astimezone(zone).date() - _ONE_DAY
    last_day = (_EPOCH + latest).astimezone(zone).date() + _ONE_DAY
    while day <= last_day:
        windows = per_date.get(day)
        if windows is None:
            windows = per_weekday[day.weekday()]
        for start_minute, end_minute in windows:
            window_start = wall_clock(day, start_minute, zone) - _EPOCH
            last = min(wall_clock(day, end_minute, zone) - _EPOCH - duration, latest)
            k = 0 if window_start >= lower else -((window_start - lower) // step)
            candidate = window_start + step * k
            j = bisect_right(block_highs, candidate)
            while candidate <= last:
                if j < n_blocks and block_lows[j] < candidate:
                    # Blocked: jump to the first candidate at or after the block's end.
                    candidate = window_start + step * -((window_start - block_highs[j]) // step)
                else:
                    slot_start = _EPOCH + candidate
                    slots.append(Slot(slot_start, slot_start + duration))
                    keys.append(candidate)
                    if candidate <= previous:
                        ordered = False
                    previous = candidate
                    candidate += step
                while j < n_blocks and block_highs[j] <= candidate:
                    j += 1
        day += _ONE_DAY
    if ordered:
        return slots
    # A spring-forward gap or a skipped date can make windows overlap or run out of order.
    unique = dict(zip(keys, slots, strict=True))
    return [unique[key] for key in sorted(unique)]


def _blocked_starts(
    busy: Sequence[tuple[datetime, datetime]], *, widen_low: timedelta, widen_high: timedelta
) -> tuple[list[timedelta], list[timedelta]]:
    """Merged open intervals of blocked start offsets (from the epoch), sorted: (lows, highs).

    Busy [b0, b1) blocks the starts in (b0 - widen_low, b1 + widen_high). The union is built
    from the starts and the ends sorted separately: its gaps are exactly where the i-th smallest
    end is <= the (i+1)-th smallest start (open intervals that only touch leave that point
    free, so they stay apart). Everything runs in C-level maps and sorts: linear after the sort.
    """
    try:
        lows = list(map(sub, map(_FIRST, busy), repeat(_EPOCH + widen_low)))
        highs = list(map(sub, map(_SECOND, busy), repeat(_EPOCH - widen_high)))
    except (TypeError, ValueError, IndexError, KeyError):
        raise _busy_error(busy) from None
    guard = widen_low + widen_high  # duration + buffers: the span a candidate keeps free
    if not lows or guard <= timedelta(0):  # an empty span overlaps nothing
        return [], []
    if min(map(sub, highs, lows)) <= guard:  # some busy interval is empty: it blocks nothing
        keep = [high - low > guard for low, high in zip(lows, highs, strict=True)]
        lows, highs = list(compress(lows, keep)), list(compress(highs, keep))
        if not lows:
            return [], []
    lows.sort()
    highs.sort()
    gaps = list(map(le, highs, islice(lows, 1, None)))
    merged_lows = [lows[0], *compress(islice(lows, 1, None), gaps)]
    merged_highs = [*compress(highs, gaps), highs[-1]]
    return merged_lows, merged_highs


def _busy_error(busy: Sequence[tuple[datetime, datetime]]) -> SlotArgumentError:
    for item in busy:
        for moment in item if isinstance(item, tuple | list) else ():
            if isinstance(moment, datetime) and moment.utcoffset() is None:
                return SlotArgumentError(
                    "Busy times must include a timezone (got a date and time without one)."
                )
    return SlotArgumentError("Each busy period must be a (start, end) pair of aware datetimes.")


def _since_epoch(value: object, label: str) -> timedelta:
    if not isinstance(value, datetime):
        raise SlotArgumentError(f"{label} must be a date and time, not {value!r}.")
    if value.utcoffset() is None:
        raise SlotArgumentError(f"{label} must include a timezone (got {value.isoformat()}).")
    return value - _EPOCH


def _check_length(value: object, label: str, *, positive: bool = False) -> None:
    if not isinstance(value, timedelta):
        raise SlotArgumentError(f"{label} must be a length of time, not {value!r}.")
    if positive and value <= timedelta(0):
        raise SlotArgumentError(f"{label} must be longer than zero.")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
