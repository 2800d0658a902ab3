"""Property tests: ``open_slots`` against a brute-force reference that follows the issue's
semantics literally (windows via ``datetime.combine``, merging by marking minutes, busy checks
minute by minute), around the DST changes of zones with odd offsets and transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.slots import DateOverride, Slot, WeeklyWindow, open_slots

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # changes at midnight
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 30 December 2011
)
BUSY_ZONES: tuple[tzinfo, ...] = (
    UTC,
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
    ZoneInfo("Australia/Lord_Howe"),
    timezone(timedelta(hours=-3, minutes=-30)),
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DAY_MINUTES = 1440


@cache
def transitions(tz: str) -> tuple[datetime, ...]:
    """Instants (UTC, to the minute) at which ``tz`` changes its offset in 2011-2012 and
    2024-2026; for a zone without changes, two ordinary instants."""
    zone = ZoneInfo(tz)
    found = []
    for first, days in (
        (datetime(2011, 1, 1, tzinfo=UTC), 730),
        (datetime(2024, 1, 1, tzinfo=UTC), 1096),
    ):
        for n in range(days):
            low, high = first + timedelta(days=n), first + timedelta(days=n + 1)
            if low.astimezone(zone).utcoffset() == high.astimezone(zone).utcoffset():
                continue
            while high - low > MINUTE:  # the first minute with the new offset
                middle = low + (high - low) // MINUTE // 2 * MINUTE
                same = middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(high)
    return tuple(found) or (
        datetime(2025, 3, 30, 1, tzinfo=UTC),
        datetime(2025, 10, 26, tzinfo=UTC),
    )


def midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0)


# --- the reference ----------------------------------------------------------------------------


def minutes(moment: datetime) -> int:
    return (moment - EPOCH) // MINUTE


def merged_by_marking(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge windows of one date by marking covered minutes and reading off the runs."""
    covered = [False] * (DAY_MINUTES + 1)
    for start, end in windows:
        for minute in range(start, end):
            covered[minute] = True
    runs, run_start = [], None
    for minute in range(DAY_MINUTES + 1):
        if covered[minute] and run_start is None:
            run_start = minute
        elif not covered[minute] and run_start is not None:
            runs.append((run_start, minute))
            run_start = None
    return runs


def wall(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The issue's reading: ``combine(D, a, tzinfo=ZoneInfo(tz))``; 1440 is D+1 00:00."""
    if minute == DAY_MINUTES:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def reference_slots(
    *,
    tz: str,
    weekly: list[WeeklyWindow],
    overrides: list[DateOverride],
    busy: list[tuple[datetime, datetime]],
    duration: timedelta,
    interval: timedelta | None,
    buffer_before: timedelta,
    buffer_after: timedelta,
    min_notice: timedelta,
    horizon: timedelta | None,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    zone = ZoneInfo(tz)
    step = interval or duration
    busy_minutes = {m for b0, b1 in busy for m in range(minutes(b0), minutes(b1))}
    before, span = buffer_before // MINUTE, (duration + buffer_after) // MINUTE
    found: set[datetime] = set()
    day = (start - timedelta(days=3)).astimezone(zone).date()
    while day <= (end + timedelta(days=3)).astimezone(zone).date():
        if any(override.day == day for override in overrides):
            raw = [w for override in overrides if override.day == day for w in override.windows]
        else:
            raw = [(w.start_minute, w.end_minute) for w in weekly if w.weekday == day.weekday()]
        for first, last in merged_by_marking(raw):
            candidate, window_end = wall(day, first, zone), wall(day, last, zone)
            while candidate + duration <= window_end:
                wanted = (
                    start <= candidate < end
                    and candidate >= now + min_notice
                    and (horizon is None or candidate < now + horizon)
                )
                at = minutes(candidate)
                if wanted and not any(m in busy_minutes for m in range(at - before, at + span)):
                    found.add(candidate)
                candidate += step
        day += timedelta(days=1)
    return [Slot(moment, moment + duration) for moment in sorted(found)]


# --- strategies -------------------------------------------------------------------------------


def on_grid(low: int, high: int) -> st.SearchStrategy[int]:
    """Integers from ``low`` to ``high``, half the time multiples of 15 so that window edges,
    busy intervals and candidates meet exactly (UTC offsets here are multiples of 15 minutes)."""
    first, last = -(-low // 15), high // 15
    exact = st.integers(low, high)
    return exact if first > last else st.integers(first, last).map(lambda n: n * 15) | exact


@st.composite
def minute_windows(draw: st.DrawFn) -> tuple[int, int]:
    """Windows favouring the small hours (where clocks change) and ends at 24:00."""
    start = draw(st.sampled_from([0, 30, 60, 90, 120, 150, 180, 1380]) | on_grid(0, 1439))
    end = draw(st.just(DAY_MINUTES) | on_grid(start + 1, min(start + 600, DAY_MINUTES)))
    return start, end


def lengths(low: int, high: int) -> st.SearchStrategy[timedelta]:
    return on_grid(low, high).map(lambda n: n * MINUTE)


def rarely(draw: st.DrawFn, strategy: st.SearchStrategy[Any], otherwise: Any) -> Any:
    """A value from ``strategy`` one time in four, else ``otherwise``."""
    return draw(strategy) if draw(st.integers(0, 3)) == 0 else otherwise


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    tz = draw(st.sampled_from(ZONES))
    anchor = midnight(draw(st.sampled_from(transitions(tz))))
    start = anchor + draw(lengths(-36 * 60, 24 * 60))
    end = start + draw(lengths(1, 4 * DAY_MINUTES) | lengths(2 * DAY_MINUTES, 4 * DAY_MINUTES))
    weekly = [
        WeeklyWindow(draw(st.integers(0, 6)), *draw(minute_windows()))
        for _ in range(draw(st.integers(0, 14)))
    ]
    overrides = [
        DateOverride(
            anchor.date() + timedelta(days=draw(st.integers(-2, 4))),
            tuple(draw(st.lists(minute_windows(), max_size=3))),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    busy = []
    reach = (end - start) // MINUTE + DAY_MINUTES
    for _ in range(draw(st.integers(0, 12))):
        begin = start + draw(lengths(-DAY_MINUTES, reach))
        begin = begin.astimezone(draw(st.sampled_from(BUSY_ZONES)))
        busy.append((begin, begin + draw(lengths(-30, 300))))
    duration = rarely(draw, lengths(5, 240), draw(lengths(5, 90)))
    now = start + rarely(draw, lengths(0, DAY_MINUTES), draw(lengths(-2 * DAY_MINUTES, 0)))
    return {
        "tz": tz,
        "weekly": weekly,
        "overrides": overrides,
        "busy": busy,
        "duration": duration,
        "interval": draw(st.none() | lengths(5, 240)),
        "buffer_before": draw(st.just(timedelta(0)) | lengths(-15, 60)),
        "buffer_after": draw(st.just(timedelta(0)) | lengths(-15, 60)),
        "min_notice": rarely(draw, lengths(0, DAY_MINUTES), timedelta(0)),
        "horizon": rarely(draw, lengths(0, 7 * DAY_MINUTES), None),
        "now": now,
        "start": start.astimezone(draw(st.sampled_from(BUSY_ZONES))),
        "end": end,
    }


@st.composite
def clock_change_queries(draw: st.DrawFn) -> dict[str, Any]:
    """Hours in the small hours of the days around a clock change, set by overrides on each
    local date that may hold it, with a query covering them all."""
    tz = draw(st.sampled_from(ZONES))
    change = draw(st.sampled_from(transitions(tz)))
    anchor = midnight(change)
    wall_before = (change - MINUTE).astimezone(ZoneInfo(tz))  # the old offset's last minute
    change_minute = wall_before.hour * 60 + wall_before.minute + 1
    quarter = st.integers(0, 16).map(lambda n: n * 15)  # 00:00 to 04:00
    early = st.tuples(quarter, st.integers(1, 8)).map(lambda w: (w[0], w[0] + 15 * w[1]))
    # Two windows a little apart on the wall clock, around the change: across a gap they can
    # overlap in UTC (one may start earlier in UTC than the other ends).
    near = st.integers(0, 4).map(lambda n: n * 15)
    split = change_minute + draw(near)
    first = (max(split - 15 - draw(near), 0), split)
    second_start = split + 15 + draw(near)
    second = (second_start, min(second_start + 15 + draw(near), DAY_MINUTES))
    pair = [w for w in (first, second) if 0 <= w[0] < w[1] <= DAY_MINUTES]
    overrides = [
        DateOverride(
            wall_before.date() + timedelta(days=n),
            tuple(pair if n == 0 else draw(st.lists(early, max_size=3))),
        )
        for n in range(-1, 3)
    ]
    busy = []
    for _ in range(draw(st.integers(0, 4))):
        begin = (anchor + draw(lengths(-DAY_MINUTES, 3 * DAY_MINUTES))).astimezone(
            draw(st.sampled_from(BUSY_ZONES))
        )
        busy.append((begin, begin + draw(lengths(15, 120))))
    return {
        "tz": tz,
        "weekly": [],
        "overrides": overrides,
        "busy": busy,
        "duration": draw(lengths(5, 45)),
        "interval": draw(st.none() | lengths(5, 60)),
        "buffer_before": draw(lengths(0, 30)),
        "buffer_after": draw(lengths(0, 30)),
        "min_notice": timedelta(0),
        "horizon": None,
        "now": anchor - timedelta(days=30),
        "start": anchor - timedelta(days=1),
        "end": anchor + timedelta(days=3),
    }


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(queries())
def test_matches_the_brute_force_reference(query: dict[str, Any]) -> None:
    result = open_slots(**query)
    assert result == reference_slots(**query)
    assert all(earlier.start < later.start for earlier, later in pairwise(result))
    assert all(
        slot.start.tzinfo is UTC and slot.end - slot.start == query["duration"] for slot in result
    )


@settings(max_examples=200, deadline=None)
@given(clock_change_queries())
def test_clock_change_days_match_the_brute_force_reference(query: dict[str, Any]) -> None:
    assert open_slots(**query) == reference_slots(**query)


@settings(max_examples=100, deadline=None)
@given(queries(), st.data())
def test_a_gap_exactly_as_long_as_the_guarded_span_is_offered(
    query: dict[str, Any], data: st.DataObject
) -> None:
    """Busy right up to ``start - buffer_before`` and again from ``start + duration +
    buffer_after`` leaves ``start`` open; one minute more on either side closes it."""
    query = {
        **query,
        "busy": [],
        "buffer_before": abs(query["buffer_before"]),
        "buffer_after": abs(query["buffer_after"]),
    }
    free = open_slots(**query)
    if not free:
        return
    slot = data.draw(st.sampled_from(free))
    guard_start = slot.start - query["buffer_before"]
    guard_end = slot.end + query["buffer_after"]
    before = (guard_start - data.draw(lengths(1, 600)), guard_start)
    after = (guard_end, guard_end + data.draw(lengths(1, 600)))
    assert slot in open_slots(**{**query, "busy": [before, after]})
    later_before = (before[0], before[1] + MINUTE)
    earlier_after = (after[0] - MINUTE, after[1])
    assert slot not in open_slots(**{**query, "busy": [later_before, after]})
    assert slot not in open_slots(**{**query, "busy": [before, earlier_after]})


@settings(max_examples=150, deadline=None)
@given(queries(), st.floats(0, 1))
def test_splitting_the_query_range_splits_the_result(
    query: dict[str, Any], fraction: float
) -> None:
    # In UTC: aware datetimes sharing a tzinfo compare and subtract by wall clock (fold ignored).
    start, end = query["start"].astimezone(UTC), query["end"].astimezone(UTC)
    middle = start + (end - start) * fraction
    whole = open_slots(**query)
    first = open_slots(**{**query, "end": middle}) if middle > start else []
    second = open_slots(**{**query, "start": middle}) if middle < end else []
    assert whole == first + second


@settings(max_examples=150, deadline=None)
@given(queries(), st.integers(0, 10))
def test_more_busy_time_never_adds_slots(query: dict[str, Any], keep: int) -> None:
    fewer = open_slots(**{**query, "busy": query["busy"][:keep]})
    assert set(open_slots(**query)) <= set(fewer)
