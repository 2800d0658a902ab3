from datetime import UTC, datetime, timedelta

from scheduling.booking_rules import (
    BusyBooking,
    OfferingRules,
    OpenSlot,
    compute_open_slots,
    group_slot_key,
    nearest,
)
from scheduling.slots import WeeklyWindow

MON = datetime(2026, 11, 23, tzinfo=UTC)  # Monday; UTC coach keeps the arithmetic visible
NOW = MON - timedelta(days=1)
WEEKDAYS_9_TO_12 = [WeeklyWindow(d, 9 * 60, 12 * 60) for d in range(5)]
H = timedelta(hours=1)


def starts(slots):
    return [(s.start - MON) / H for s in slots]


def compute(rules, busy=(), start=MON, end=MON + timedelta(days=1)):
    return compute_open_slots(rules, tz="UTC", weekly=WEEKDAYS_9_TO_12, overrides=(),
                              busy=list(busy), now=NOW, start=start, end=end)


def test_existing_bookings_are_widened_by_their_own_buffers():
    rules = OfferingRules(offering_id=1, duration=H)
    other = BusyBooking(MON + 10 * H, MON + 11 * H, offering_id=2, slot_key="b:x",
                        buffer_after=timedelta(minutes=30))
    # 11:00 would start inside the other offering's 30-minute after-buffer.
    assert starts(compute(rules, [other])) == [9]
    assert starts(compute(rules)) == [9, 10, 11]


def test_both_buffers_add_up():
    rules = OfferingRules(offering_id=1, duration=H, interval=timedelta(minutes=30),
                          buffer_before=timedelta(minutes=30))
    other = BusyBooking(MON + 9 * H, MON + 10 * H, 2, "b:x", buffer_after=timedelta(minutes=30))
    assert starts(compute(rules, [other])) == [11]


def test_group_sessions_show_seats_left_and_block_other_starts():
    rules = OfferingRules(offering_id=1, duration=H, interval=timedelta(minutes=30), capacity=3)
    seat = BusyBooking(MON + 10 * H, MON + 11 * H, 1, group_slot_key(1, MON + 10 * H))
    slots = compute(rules, [seat, seat])
    assert starts(slots) == [9, 10, 11]
    assert [s.seats_left for s in slots] == [3, 1, 3]
    full = compute(rules, [seat, seat, seat])
    assert starts(full) == [9, 11]


def test_per_day_limit_counts_the_offering_in_local_days():
    rules = OfferingRules(offering_id=1, duration=H, max_per_day=1)
    mine = BusyBooking(MON + 9 * H, MON + 10 * H, 1, "b:a")
    theirs = BusyBooking(MON + 9 * H, MON + 10 * H, 2, "b:b")
    week = compute(rules, [mine], end=MON + timedelta(days=2))
    assert starts(week) == [33, 34, 35]  # Monday is full, Tuesday open
    assert starts(compute(rules, [theirs], end=MON + timedelta(days=2))) == [10, 11, 33, 34, 35]


def test_joining_a_group_session_does_not_count_against_the_day_limit():
    rules = OfferingRules(offering_id=1, duration=H, capacity=2, max_per_day=1)
    seat = BusyBooking(MON + 10 * H, MON + 11 * H, 1, group_slot_key(1, MON + 10 * H))
    slots = compute(rules, [seat])
    assert starts(slots) == [10]
    assert slots[0].seats_left == 1


def test_nearest_keeps_time_order():
    slots = [OpenSlot(MON + h * H, MON + (h + 1) * H) for h in (1, 5, 9, 10, 30)]
    assert starts(nearest(slots, MON + 9 * H, 3)) == [5, 9, 10]
