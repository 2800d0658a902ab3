"""Benchmark ``open_slots`` on the issue's scenario (run: ``python -m benchmarks.bench_slots``).

Europe/Berlin, Monday-Friday 09:00-17:00 plus Saturday 10:00-14:00, 30-minute sessions every
15 minutes, 10-minute buffers, 20 overrides, a 90-day query and 2,000 busy intervals spread over
the 90 days (many outside working hours, in mixed timezones). Targets, checked in one run:

- median ``open_slots`` call <= 5 ms;
- >= 100x faster than the straightforward approach (every candidate scans every busy interval);
- 20,000 busy intervals cost <= 12x what 2,000 cost.

Prints every figure and exits non-zero when a target is missed.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.slots import (
    DateOverride,
    Slot,
    WeeklyWindow,
    open_slots,
    overrides_by_date,
    wall_clock,
    weekly_by_day,
)

TZ = "Europe/Berlin"
QUERY_START = datetime(2025, 3, 3, tzinfo=ZoneInfo(TZ))  # spans the 30 March DST change
QUERY_DAYS = 90
MEDIAN_TARGET_MS = 5.0
SPEEDUP_TARGET = 100.0
SCALING_TARGET = 12.0
EVENT_ZONES = (UTC, UTC, ZoneInfo(TZ), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo"))


def weekly_hours() -> list[WeeklyWindow]:
    return [WeeklyWindow(day, 9 * 60, 17 * 60) for day in range(5)] + [
        WeeklyWindow(5, 10 * 60, 14 * 60)
    ]


def overrides() -> list[DateOverride]:
    """20 overrides: days off, short days, split days, one on the DST Sunday."""
    shapes: list[tuple[tuple[int, int], ...]] = [(), ((600, 720),), ((480, 720), (780, 1140))]
    first = QUERY_START.date()
    days = [first + timedelta(days=4 * i + 1) for i in range(19)] + [date(2025, 3, 30)]
    return [DateOverride(day, shapes[i % len(shapes)]) for i, day in enumerate(days)]


def busy_intervals(count: int, seed: int) -> list[tuple[datetime, datetime]]:
    """``count`` busy intervals over the query plus a day each side, unsorted and overlapping:
    one in eight a booking or hold inside working hours (UTC, as storage returns them), the rest
    personal calendar events before 09:00 or from 17:00 (in mixed zones), some running into
    working hours."""
    rng = random.Random(seed)
    berlin = ZoneInfo(TZ)
    first_day = QUERY_START.date() - timedelta(days=1)
    busy = []
    for _ in range(count):
        day = first_day + timedelta(days=rng.randrange(QUERY_DAYS + 2))
        if rng.random() < 1 / 8:
            minute = rng.randrange(9 * 60, 16 * 60, 15)
            length, zone = rng.choice((30, 45, 60)), UTC
        else:
            minute = rng.choice((rng.randrange(0, 9 * 60, 5), rng.randrange(17 * 60, 24 * 60, 5)))
            length, zone = rng.choice((15, 30, 60, 90, 120, 240)), rng.choice(EVENT_ZONES)
        local = datetime(day.year, day.month, day.day, tzinfo=berlin) + timedelta(minutes=minute)
        begin = local.astimezone(zone)
        busy.append((begin, begin + timedelta(minutes=length)))
    return busy


def scenario(busy_count: int, seed: int = 2025) -> dict[str, Any]:
    start = QUERY_START.astimezone(UTC)
    return {
        "tz": TZ,
        "weekly": weekly_hours(),
        "overrides": overrides(),
        "busy": busy_intervals(busy_count, seed),
        "duration": timedelta(minutes=30),
        "interval": timedelta(minutes=15),
        "buffer_before": timedelta(minutes=10),
        "buffer_after": timedelta(minutes=10),
        "min_notice": timedelta(hours=12),
        "horizon": timedelta(days=120),
        "now": start - timedelta(hours=1),
        "start": start,
        "end": start + timedelta(days=QUERY_DAYS),
    }


def naive_open_slots(
    *,
    tz: str,
    weekly: list[WeeklyWindow],
    overrides: list[DateOverride],
    busy: list[tuple[datetime, datetime]],
    duration: timedelta,
    interval: timedelta,
    buffer_before: timedelta,
    buffer_after: timedelta,
    min_notice: timedelta,
    horizon: timedelta,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """The straightforward approach: every candidate scans every busy interval."""
    zone = ZoneInfo(tz)
    per_weekday = weekly_by_day(weekly)
    per_date = overrides_by_date(overrides)
    found: set[datetime] = set()
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date() + timedelta(days=1):
        for first, last in per_date.get(day, per_weekday[day.weekday()]):
            candidate = wall_clock(day, first, zone).astimezone(UTC)
            window_end = wall_clock(day, last, zone)
            while candidate + duration <= window_end:
                if (
                    start <= candidate < end
                    and candidate >= now + min_notice
                    and candidate < now + horizon
                ):
                    guard_start = candidate - buffer_before
                    guard_end = candidate + duration + buffer_after
                    if not any(b0 < guard_end and guard_start < b1 for b0, b1 in busy):
                        found.add(candidate)
                candidate += interval
        day += timedelta(days=1)
    return [Slot(moment, moment + duration) for moment in sorted(found)]


def median_ms(function: Callable[..., list[Slot]], kwargs: dict[str, Any], runs: int) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        function(**kwargs)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def main() -> int:
    small, large = scenario(2_000), scenario(20_000)
    fast_result = open_slots(**small)
    if fast_result != naive_open_slots(**small):
        print("FAIL: open_slots and the naive approach disagree")
        return 1
    print(
        f"scenario: {TZ}, {QUERY_DAYS}-day query, {len(small['busy']):,} busy intervals, "
        f"{len(fast_result):,} open slots"
    )

    fast_ms = median_ms(open_slots, small, runs=201)
    naive_ms = median_ms(naive_open_slots, small, runs=5)
    large_ms = median_ms(open_slots, large, runs=51)
    speedup = naive_ms / fast_ms
    scaling = large_ms / fast_ms
    print(f"open_slots, 2,000 busy:   median {fast_ms:8.3f} ms   (target <= {MEDIAN_TARGET_MS} ms)")
    print(f"naive scan, 2,000 busy:   median {naive_ms:8.3f} ms")
    print(f"speed-up over naive:      {speedup:8.1f}x     (target >= {SPEEDUP_TARGET:.0f}x)")
    print(f"open_slots, 20,000 busy:  median {large_ms:8.3f} ms")
    print(f"20,000 / 2,000 busy:      {scaling:8.2f}x     (target <= {SCALING_TARGET:.0f}x)")

    missed = [
        name
        for name, ok in (
            ("median time", fast_ms <= MEDIAN_TARGET_MS),
            ("speed-up", speedup >= SPEEDUP_TARGET),
            ("linear scaling", scaling <= SCALING_TARGET),
        )
        if not ok
    ]
    print("FAIL: missed " + ", ".join(missed) if missed else "OK: all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
