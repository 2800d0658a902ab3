"""Which starts an offering can offer, as a pure function of its rules and the coach's time.

On top of the slot engine this applies what only the booking side knows: existing bookings
widened by their own offering's buffers (Cal.com semantics: both buffers count), seats of group
sessions, and the offering's per-day limit counted in the coach's local days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.slots import DateOverride, WeeklyWindow, open_slots


@dataclass(frozen=True)
class OfferingRules:
    offering_id: int
    duration: timedelta
    interval: timedelta | None = None
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    booking_window: timedelta | None = None
    capacity: int = 1
    max_per_day: int | None = None

    @property
    def is_group(self) -> bool:
        return self.capacity > 1


@dataclass(frozen=True)
class BusyBooking:
    """An active booking of the coach (any offering), as the slot computation needs it."""

    start: datetime
    end: datetime
    offering_id: int
    slot_key: str
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)


@dataclass(frozen=True)
class OpenSlot:
    start: datetime
    end: datetime
    seats_left: int = 1


def group_slot_key(offering_id: int, start: datetime) -> str:
    """The key every seat of one group session shares (see storage's exclusion constraint)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    return f"o:{offering_id}:{int(start.timestamp())}"


def compute_open_slots(
    rules: OfferingRules, *, tz: str, weekly: Sequence[WeeklyWindow],
    overrides: Sequence[DateOverride], busy: Sequence[BusyBooking], now: datetime,
    start: datetime, end: datetime,
) -> list[OpenSlot]:
    """Open starts in `[start, end)`. `busy` must cover the whole local days of the range so
    the per-day limit counts correctly."""
    sessions: Counter[datetime] = Counter()
    session_end: dict[datetime, datetime] = {}
    blocking: list[tuple[datetime, datetime]] = []
    per_day: Counter[date] = Counter()
    zone = ZoneInfo(tz)
    for b in busy:
        own_group = rules.is_group and b.slot_key == group_slot_key(rules.offering_id, b.start)
        if own_group:
            sessions[b.start] += 1
            session_end[b.start] = b.end
        else:
            blocking.append((b.start - b.buffer_before, b.end + b.buffer_after))
        if b.offering_id == rules.offering_id and (not own_group or sessions[b.start] == 1):
            per_day[b.start.astimezone(zone).date()] += 1

    candidates = open_slots(
        tz=tz, weekly=weekly, overrides=overrides, busy=blocking, duration=rules.duration,
        interval=rules.interval, buffer_before=rules.buffer_before,
        buffer_after=rules.buffer_after, min_notice=rules.min_notice,
        horizon=rules.booking_window, now=now, start=start, end=end,
    )
    result: list[OpenSlot] = []
    for slot in candidates:
        seats = rules.capacity
        if rules.is_group:
            taken = sessions.get(slot.start, 0)
            if taken:
                seats -= taken
                if seats <= 0:
                    continue
            elif _overlaps_other_session(slot.start, slot.end, rules, session_end):
                continue
        joins_session = rules.is_group and sessions.get(slot.start, 0) > 0
        if (rules.max_per_day is not None and not joins_session
                and per_day[slot.start.astimezone(zone).date()] >= rules.max_per_day):
            continue
        result.append(OpenSlot(slot.start, slot.end, seats))
    return result


def _overlaps_other_session(start: datetime, end: datetime, rules: OfferingRules,
                            session_end: dict[datetime, datetime]) -> bool:
    lo, hi = start - rules.buffer_before, end + rules.buffer_after
    return any(s - rules.buffer_before < hi and e + rules.buffer_after > lo
               for s, e in session_end.items() if s != start)


def nearest(slots: Sequence[OpenSlot], wanted: datetime, count: int = 5) -> list[OpenSlot]:
    """The `count` slots closest in time to `wanted`, in time order."""
    closest = sorted(slots, key=lambda s: (abs(s.start - wanted), s.start))[:count]
    return sorted(closest, key=lambda s: s.start)
