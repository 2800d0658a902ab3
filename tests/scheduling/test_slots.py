"""Named cases for the slot engine: DST days, overrides, midnight, the date line, bad input."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduling.errors import InvalidInput
from scheduling.slots import (
    DateOverride,
    Slot,
    WeeklyWindow,
    merge_windows,
    open_slots,
)

NOW = datetime(2000, 1, 1, tzinfo=UTC)  # far in the past: notice and horizon do not interfere
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


def day_range(day: date) -> dict[str, datetime]:
    """A UTC range wide enough to hold every slot of the coach-local ``day`` in any zone."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return {"start": midnight - timedelta(days=1), "end": midnight + timedelta(days=2)}


def slots(**kwargs: Any) -> list[Slot]:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("duration", HOUR)
    return open_slots(**kwargs)


def starts(result: list[Slot]) -> list[datetime]:
    return [slot.start for slot in result]


def on_date(tz: str, day: date, *windows: tuple[int, int], **kwargs: Any) -> list[datetime]:
    """Slot starts on the coach-local ``day`` for weekly hours ``windows`` on its weekday."""
    weekly = [WeeklyWindow(day.weekday(), start, end) for start, end in windows]
    return starts(slots(tz=tz, weekly=weekly, **day_range(day), **kwargs))


# --- the basics -----------------------------------------------------------------------------


def test_weekly_hours_are_wall_clock_in_the_coach_zone() -> None:
    result = slots(
        tz="Europe/Berlin",
        weekly=[WeeklyWindow(0, 9 * 60, 11 * 60)],
        start=utc(2025, 1, 6),
        end=utc(2025, 1, 7),
    )
    assert result == [
        Slot(utc(2025, 1, 6, 8), utc(2025, 1, 6, 9)),
        Slot(utc(2025, 1, 6, 9), utc(2025, 1, 6, 10)),
    ]
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in result)


def test_interval_steps_candidates_and_defaults_to_duration() -> None:
    common: dict[str, Any] = {
        "tz": "UTC",
        "weekly": [WeeklyWindow(0, 9 * 60, 10 * 60 + 30)],
        "start": utc(2025, 1, 6),
        "end": utc(2025, 1, 7),
    }
    assert starts(slots(**common)) == [utc(2025, 1, 6, 9)]
    assert starts(slots(interval=15 * MIN, **common)) == [
        utc(2025, 1, 6, 9),
        utc(2025, 1, 6, 9, 15),
        utc(2025, 1, 6, 9, 30),
    ]


@pytest.mark.parametrize("windows", [[(540, 600), (600, 660)], [(600, 660), (540, 620)]])
def test_touching_or_overlapping_windows_of_a_date_are_merged_first(windows) -> None:
    weekly = [WeeklyWindow(0, a, b) for a, b in windows]
    result = slots(
        tz="UTC",
        weekly=weekly,
        duration=90 * MIN,
        interval=30 * MIN,
        start=utc(2025, 1, 6),
        end=utc(2025, 1, 7),
    )
    assert starts(result) == [utc(2025, 1, 6, 9), utc(2025, 1, 6, 9, 30)]
    assert merge_windows(windows) == ((540, 660),)


def test_windows_of_different_dates_are_not_merged_across_midnight() -> None:
    weekly = [WeeklyWindow(4, 23 * 60, 1440), WeeklyWindow(5, 0, 60)]
    common: dict[str, Any] = {"tz": "UTC", "weekly": weekly, **day_range(date(2025, 1, 10))}
    assert starts(slots(duration=90 * MIN, **common)) == []
    assert starts(slots(**common)) == [utc(2025, 1, 10, 23), utc(2025, 1, 11, 0)]


def test_window_ending_at_1440_ends_at_next_midnight() -> None:
    result = slots(
        tz="Europe/Berlin",
        weekly=[WeeklyWindow(4, 22 * 60, 1440)],
        **day_range(date(2025, 1, 10)),
    )
    assert result == [
        Slot(utc(2025, 1, 10, 21), utc(2025, 1, 10, 22)),
        Slot(utc(2025, 1, 10, 22), utc(2025, 1, 10, 23)),
    ]
    assert result[-1].end == local("Europe/Berlin", 2025, 1, 11)


def test_window_ending_at_1440_when_midnight_is_skipped() -> None:
    # Santiago springs forward at 00:00 on 7 September 2025 (-04 -> -03): that midnight does not
    # exist and is read with the offset before the change, 04:00 UTC.
    result = on_date("America/Santiago", date(2025, 9, 6), (22 * 60, 1440))
    assert result == [utc(2025, 9, 7, 2), utc(2025, 9, 7, 3)]


# --- daylight saving time ---------------------------------------------------------------------


def test_spring_forward_new_york_day_loses_an_hour() -> None:
    # 9 March 2025: 02:00 EST jumps to 03:00 EDT, so 00:00-06:00 local is five hours long.
    result = on_date("America/New_York", date(2025, 3, 9), (0, 6 * 60))
    assert result == [utc(2025, 3, 9, hour) for hour in (5, 6, 7, 8, 9)]


def test_spring_forward_start_in_the_gap_reads_the_offset_before() -> None:
    # 02:30 does not exist; read as EST it is 07:30 UTC (03:30 EDT). 04:00 EDT is 08:00 UTC.
    result = on_date("America/New_York", date(2025, 3, 9), (150, 240), duration=30 * MIN)
    assert result == [utc(2025, 3, 9, 7, 30)]


def test_spring_forward_window_wholly_inside_the_gap_still_has_its_length() -> None:
    # 02:00-02:45 read as EST is 07:00-07:45 UTC.
    result = on_date("America/New_York", date(2025, 3, 9), (120, 165), duration=45 * MIN)
    assert result == [utc(2025, 3, 9, 7)]


def test_spring_forward_window_collapsed_by_the_gap_has_no_slots() -> None:
    # 02:30 (gap, as EST) is 07:30 UTC but 03:00 EDT is 07:00 UTC: the window is negative.
    assert on_date("America/New_York", date(2025, 3, 9), (150, 180), duration=15 * MIN) == []


def test_spring_forward_windows_overlapping_in_utc_give_no_duplicates() -> None:
    # 02:00-02:50 (as EST) is 07:00-07:50 UTC; 03:00-04:00 EDT is 07:00-08:00 UTC.
    result = on_date(
        "America/New_York", date(2025, 3, 9), (120, 170), (180, 240), duration=30 * MIN
    )
    assert result == [utc(2025, 3, 9, 7), utc(2025, 3, 9, 7, 30)]


def test_fall_back_new_york_day_gains_an_hour() -> None:
    # 2 November 2025: 02:00 EDT falls back to 01:00 EST, so 00:00-04:00 local is five hours.
    result = on_date("America/New_York", date(2025, 11, 2), (0, 4 * 60))
    assert result == [utc(2025, 11, 2, hour) for hour in (4, 5, 6, 7, 8)]


def test_fall_back_ambiguous_start_is_its_first_occurrence() -> None:
    # 01:00 happens twice; the first (EDT) is 05:00 UTC. 02:00 EST is 07:00 UTC.
    result = on_date("America/New_York", date(2025, 11, 2), (60, 120))
    assert result == [utc(2025, 11, 2, 5), utc(2025, 11, 2, 6)]


def test_spring_forward_london() -> None:
    # 30 March 2025: 01:00 GMT jumps to 02:00 BST. 00:30 GMT to 03:00 BST is 00:30-02:00 UTC.
    result = on_date("Europe/London", date(2025, 3, 30), (30, 180), duration=30 * MIN)
    assert result == [utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1), utc(2025, 3, 30, 1, 30)]


def test_fall_back_london() -> None:
    # 26 October 2025: 02:00 BST falls back to 01:00 GMT. 00:00 BST is 23:00 UTC the day before.
    result = on_date("Europe/London", date(2025, 10, 26), (0, 180))
    assert result == [utc(2025, 10, 25, 23), *(utc(2025, 10, 26, hour) for hour in (0, 1, 2))]


def test_same_wall_clock_hours_move_in_utc_across_the_change() -> None:
    result = slots(
        tz="America/New_York",
        weekly=[WeeklyWindow(0, 9 * 60, 10 * 60)],
        start=utc(2025, 3, 1),
        end=utc(2025, 3, 15),
    )
    assert starts(result) == [utc(2025, 3, 3, 14), utc(2025, 3, 10, 13)]


def test_lord_howe_half_hour_spring_forward() -> None:
    # 5 October 2025: 02:00 +10:30 jumps to 02:30 +11. 01:00 +10:30 is 14:30 UTC, 04:00 +11 is
    # 17:00 UTC: two and a half hours.
    result = on_date("Australia/Lord_Howe", date(2025, 10, 5), (60, 240), duration=30 * MIN)
    assert result == [utc(2025, 10, 4, 14, 30) + n * 30 * MIN for n in range(5)]


def test_lord_howe_half_hour_fall_back() -> None:
    # 6 April 2025: 02:00 +11 falls back to 01:30 +10:30. 01:00 +11 is 14:00 UTC, 03:00 +10:30
    # is 16:30 UTC.
    result = on_date("Australia/Lord_Howe", date(2025, 4, 6), (60, 180), duration=30 * MIN)
    assert result == [utc(2025, 4, 5, 14) + n * 30 * MIN for n in range(5)]


# --- overrides ----------------------------------------------------------------------------------


def _new_york_sundays(*overrides: DateOverride) -> list[datetime]:
    return starts(
        slots(
            tz="America/New_York",
            weekly=[WeeklyWindow(6, 9 * 60, 17 * 60)],
            overrides=overrides,
            start=utc(2025, 3, 1),
            end=utc(2025, 3, 18),
        )
    )


def test_override_on_the_dst_day_replaces_that_local_date_only() -> None:
    result = _new_york_sundays(DateOverride(date(2025, 3, 9), ((10 * 60, 12 * 60),)))
    assert result == [
        *(utc(2025, 3, 2, hour) for hour in range(14, 22)),  # 09:00-17:00 EST
        utc(2025, 3, 9, 14),  # 10:00 EDT
        utc(2025, 3, 9, 15),
        *(utc(2025, 3, 16, hour) for hour in range(13, 21)),  # 09:00-17:00 EDT
    ]


def test_empty_override_blocks_the_dst_day() -> None:
    result = _new_york_sundays(DateOverride(date(2025, 3, 9), ()))
    assert [moment.date() for moment in result] == [date(2025, 3, 2)] * 8 + [date(2025, 3, 16)] * 8


def test_overrides_of_one_date_are_combined() -> None:
    day = date(2025, 3, 9)
    result = _new_york_sundays(DateOverride(day, ((600, 660),)), DateOverride(day, ((660, 720),)))
    assert [moment for moment in result if moment.date() == day] == [
        utc(2025, 3, 9, 14),
        utc(2025, 3, 9, 15),
    ]


def test_override_applies_to_the_coach_local_date_not_the_utc_date() -> None:
    # Monday 13 January 2025 09:00 in Auckland (+13) is Sunday 12 January 20:00 UTC.
    result = slots(
        tz="Pacific/Auckland",
        weekly=[WeeklyWindow(0, 9 * 60, 10 * 60)],
        overrides=[DateOverride(date(2025, 1, 13), ())],
        start=utc(2025, 1, 11),
        end=utc(2025, 1, 21),
    )
    assert starts(result) == [utc(2025, 1, 19, 20)]


# --- the date line ------------------------------------------------------------------------------


def test_auckland_coach_monday_is_a_los_angeles_student_sunday() -> None:
    weekly = [WeeklyWindow(0, 9 * 60, 11 * 60)]  # Monday only, Auckland time
    student_sunday = local("America/Los_Angeles", 2025, 1, 12)
    sunday = slots(
        tz="Pacific/Auckland", weekly=weekly, start=student_sunday, end=student_sunday + 24 * HOUR
    )
    assert starts(sunday) == [utc(2025, 1, 12, 20), utc(2025, 1, 12, 21)]
    assert [s.start.astimezone(ZoneInfo("America/Los_Angeles")).hour for s in sunday] == [12, 13]
    student_monday = student_sunday + 24 * HOUR
    monday = slots(
        tz="Pacific/Auckland", weekly=weekly, start=student_monday, end=student_monday + 24 * HOUR
    )
    assert monday == []


def test_kiritimati_coach_monday_is_a_pago_pago_student_saturday() -> None:
    # +14 and -11 are 25 hours apart: Monday 00:00-01:00 in Kiritimati is Saturday 23:00 in
    # Pago Pago, two weekday names away.
    student_saturday = local("Pacific/Pago_Pago", 2025, 1, 11)
    result = slots(
        tz="Pacific/Kiritimati",
        weekly=[WeeklyWindow(0, 0, 60)],
        start=student_saturday,
        end=student_saturday + 24 * HOUR,
    )
    assert result == [Slot(utc(2025, 1, 12, 10), utc(2025, 1, 12, 11))]


def test_samoa_skipped_friday_does_not_duplicate_saturday() -> None:
    # Samoa skipped Friday 30 December 2011 (-10 to +14). That Friday's 10:00, read with the
    # offset before, is the same instant as Saturday's 10:00: one slot, not two.
    result = slots(
        tz="Pacific/Apia",
        weekly=[WeeklyWindow(4, 600, 720), WeeklyWindow(5, 600, 720)],
        start=utc(2011, 12, 29),
        end=utc(2012, 1, 3),
    )
    assert starts(result) == [utc(2011, 12, 30, 20), utc(2011, 12, 30, 21)]


def test_samoa_skipped_friday_hours_reached_from_a_query_starting_on_saturday() -> None:
    # The query starts on local Saturday 31 December, yet the skipped Friday's hours (read with
    # Friday's offset) fall inside it: the engine must expand the day before the query too.
    result = slots(
        tz="Pacific/Apia",
        weekly=[WeeklyWindow(4, 600, 720)],
        start=local("Pacific/Apia", 2011, 12, 31),
        end=local("Pacific/Apia", 2012, 1, 2),
    )
    assert starts(result) == [utc(2011, 12, 30, 20), utc(2011, 12, 30, 21)]


def test_fall_back_across_midnight_needs_the_day_after_the_query() -> None:
    # St. John's fell back at 00:01 on 7 November 2010, to 23:01 on the 6th: Sunday's 00:00-01:00
    # ran 02:30-04:30 UTC, and its 03:00 UTC slot is Saturday 23:30 on the wall clock. A query
    # lying wholly in local Saturday must still expand Sunday.
    result = slots(
        tz="America/St_Johns",
        weekly=[WeeklyWindow(6, 0, 60)],
        duration=30 * MIN,
        start=utc(2010, 11, 7, 2, 45),
        end=utc(2010, 11, 7, 3, 15),
    )
    assert starts(result) == [utc(2010, 11, 7, 3)]
    assert result[0].start.astimezone(ZoneInfo("America/St_Johns")).day == 6


def test_slot_exactly_filling_the_gap_between_two_bookings() -> None:
    busy = [
        (utc(2025, 1, 6, 8, 50), utc(2025, 1, 6, 9, 50)),
        (utc(2025, 1, 6, 11, 10), utc(2025, 1, 6, 12)),
    ]
    guarded = {"buffer_before": 10 * MIN, "buffer_after": 10 * MIN, "interval": 10 * MIN}
    assert _utc_morning(busy=busy, **guarded) == [utc(2025, 1, 6, 10)]


# --- busy intervals, buffers, notice, horizon, range -----------------------------------------


def _utc_morning(**kwargs: Any) -> list[datetime]:
    """Hours 09:00-12:00 UTC on Monday 6 January 2025, one-hour sessions."""
    kwargs.setdefault("start", utc(2025, 1, 6))
    kwargs.setdefault("end", utc(2025, 1, 7))
    return starts(slots(tz="UTC", weekly=[WeeklyWindow(0, 9 * 60, 12 * 60)], **kwargs))


def test_touching_busy_interval_does_not_block() -> None:
    busy = [(utc(2025, 1, 6, 10), utc(2025, 1, 6, 11))]
    assert _utc_morning(busy=busy) == [utc(2025, 1, 6, 9), utc(2025, 1, 6, 11)]


def test_buffers_widen_the_span_that_must_be_free() -> None:
    busy = [(utc(2025, 1, 6, 10), utc(2025, 1, 6, 11))]
    assert _utc_morning(busy=busy, buffer_after=10 * MIN) == [utc(2025, 1, 6, 11)]
    assert _utc_morning(busy=busy, buffer_before=10 * MIN) == [utc(2025, 1, 6, 9)]


def test_busy_intervals_in_any_timezone_compare_as_instants() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    busy = [
        (datetime(2025, 1, 6, 15, 30, tzinfo=kolkata), datetime(2025, 1, 6, 15, 31, tzinfo=kolkata))
    ]
    assert _utc_morning(busy=busy) == [utc(2025, 1, 6, 9), utc(2025, 1, 6, 11)]


def test_busy_intervals_may_be_unsorted_and_overlapping() -> None:
    busy = [
        (utc(2025, 1, 6, 11, 30), utc(2025, 1, 6, 11, 45)),
        (utc(2025, 1, 6, 9, 10), utc(2025, 1, 6, 9, 50)),
        (utc(2025, 1, 6, 9, 0), utc(2025, 1, 6, 9, 20)),
    ]
    # 10:30-11:30 touches the 11:30 busy interval; 10:45 and later overlap it.
    assert _utc_morning(busy=busy, interval=15 * MIN) == [
        utc(2025, 1, 6, 10),
        utc(2025, 1, 6, 10, 15),
        utc(2025, 1, 6, 10, 30),
    ]


def test_empty_or_inverted_busy_interval_blocks_nothing() -> None:
    busy = [
        (utc(2025, 1, 6, 10), utc(2025, 1, 6, 10)),
        (utc(2025, 1, 6, 11, 30), utc(2025, 1, 6, 10, 30)),
    ]
    assert _utc_morning(busy=busy) == [utc(2025, 1, 6, hour) for hour in (9, 10, 11)]


def test_min_notice_keeps_a_start_exactly_at_now_plus_notice() -> None:
    result = _utc_morning(now=utc(2025, 1, 6, 8), min_notice=HOUR, interval=30 * MIN)
    assert result[0] == utc(2025, 1, 6, 9)
    result = _utc_morning(now=utc(2025, 1, 6, 8, 1), min_notice=HOUR, interval=30 * MIN)
    assert result[0] == utc(2025, 1, 6, 9, 30)


def test_horizon_drops_a_start_exactly_at_now_plus_horizon() -> None:
    result = _utc_morning(now=utc(2025, 1, 6, 8), horizon=2 * HOUR, interval=30 * MIN)
    assert result == [utc(2025, 1, 6, 9), utc(2025, 1, 6, 9, 30)]


def test_query_range_is_half_open_on_the_start() -> None:
    result = _utc_morning(start=utc(2025, 1, 6, 9), end=utc(2025, 1, 6, 11))
    assert result == [utc(2025, 1, 6, 9), utc(2025, 1, 6, 10)]
    # Only the start must lie in the range: 10:30-11:30 is offered for a range ending at 11:00.
    assert _utc_morning(
        start=utc(2025, 1, 6, 10, 30), end=utc(2025, 1, 6, 11), interval=30 * MIN
    ) == [utc(2025, 1, 6, 10, 30)]


def test_sub_minute_precision_is_exact() -> None:
    busy = [(utc(2025, 1, 6, 9, 27, 29, 999_999), utc(2025, 1, 6, 9, 30, 0, 1))]
    result = slots(
        tz="UTC",
        weekly=[WeeklyWindow(0, 9 * 60, 10 * 60)],
        busy=busy,
        duration=20 * MIN,
        interval=timedelta(minutes=7, seconds=30),
        start=utc(2025, 1, 6),
        end=utc(2025, 1, 7),
    )
    assert starts(result) == [utc(2025, 1, 6, 9), utc(2025, 1, 6, 9, 37, 30)]


def test_negative_buffer_shrinks_the_span_as_the_formula_says() -> None:
    busy = [(utc(2025, 1, 6, 9), utc(2025, 1, 6, 9, 5))]
    assert _utc_morning(busy=busy, buffer_before=-10 * MIN)[0] == utc(2025, 1, 6, 9)


def test_slots_are_frozen_values() -> None:
    result = slots(
        tz="UTC", weekly=[WeeklyWindow(0, 540, 600)], start=utc(2025, 1, 6), end=utc(2025, 1, 7)
    )
    with pytest.raises(FrozenInstanceError):
        result[0].start = utc(2025, 1, 6, 10)  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        WeeklyWindow(0, 540, 600).weekday = 1  # type: ignore[misc]


def test_a_query_of_exactly_366_days_is_allowed() -> None:
    result = slots(
        tz="UTC",
        weekly=[WeeklyWindow(0, 540, 600)],
        start=utc(2024, 1, 1),
        end=utc(2024, 1, 1) + timedelta(days=366),
    )
    assert len(result) == 53
    assert result[0].start == utc(2024, 1, 1, 9)


# --- bad arguments ----------------------------------------------------------------------------


def _query(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "tz": "Europe/Berlin",
        "weekly": [WeeklyWindow(0, 540, 1020)],
        "duration": HOUR,
        "now": NOW,
        "start": utc(2025, 1, 6),
        "end": utc(2025, 1, 13),
    }
    arguments.update(changes)
    return arguments


@pytest.mark.parametrize(
    "tz", ["Mars/Olympus_Mons", "", " ", "America", "../etc/passwd", "Europe/Berlin ", None]
)
def test_unknown_timezone(tz) -> None:
    with pytest.raises(ValueError, match="Unknown timezone") as caught:
        open_slots(**_query(tz=tz))
    assert isinstance(caught.value, InvalidInput)
    assert "Europe/Berlin" in caught.value.user_message


@pytest.mark.parametrize("field", ["now", "start", "end"])
def test_naive_datetimes(field) -> None:
    naive = datetime(2025, 1, 8)
    with pytest.raises(ValueError, match="timezone"):
        open_slots(**_query(**{field: naive}))


def test_naive_busy_interval() -> None:
    busy = [
        (utc(2025, 1, 6, 9), utc(2025, 1, 6, 10)),
        (datetime(2025, 1, 7, 9), datetime(2025, 1, 7, 10)),
    ]
    with pytest.raises(ValueError, match="Busy times must include a timezone"):
        open_slots(**_query(busy=busy))


@pytest.mark.parametrize(
    "busy", [[(utc(2025, 1, 6),)], ["not a pair"], [(date(2025, 1, 6), date(2025, 1, 7))]]
)
def test_malformed_busy_interval(busy) -> None:
    with pytest.raises(ValueError, match="busy period"):
        open_slots(**_query(busy=busy))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration": timedelta(0)}, "session length must be longer than zero"),
        ({"duration": -HOUR}, "session length must be longer than zero"),
        ({"interval": timedelta(0)}, "interval must be longer than zero"),
        ({"interval": -MIN}, "interval must be longer than zero"),
        ({"duration": 60}, "session length must be a length of time"),
        ({"start": utc(2025, 1, 6), "end": utc(2025, 1, 6)}, "must be after its start"),
        ({"start": utc(2025, 1, 7), "end": utc(2025, 1, 6)}, "must be after its start"),
        ({"end": utc(2025, 1, 6) + timedelta(days=366, microseconds=1)}, "at most 366 days"),
    ],
)
def test_bad_lengths_and_ranges(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        open_slots(**_query(**changes))


def test_bad_arguments_fail_even_when_nothing_could_be_offered() -> None:
    with pytest.raises(ValueError, match="timezone"):
        open_slots(
            **_query(horizon=timedelta(0), busy=[(datetime(2025, 1, 7), datetime(2025, 1, 8))])
        )


@pytest.mark.parametrize(
    ("weekday", "start", "end", "message"),
    [
        (0, -1, 60, "from 0 \\(00:00\\) to 1440 \\(24:00\\)"),
        (0, 0, 1441, "from 0 \\(00:00\\) to 1440 \\(24:00\\)"),
        (0, 600, 600, "must end after it starts: 10:00–10:00"),
        (0, 1020, 540, "must end after it starts: 17:00–09:00"),
        (0, 9.5, 600, "whole minutes"),
        (7, 540, 600, "weekday must be 0 \\(Monday\\) to 6 \\(Sunday\\)"),
        (-1, 540, 600, "weekday"),
    ],
)
def test_bad_weekly_window(weekday, start, end, message) -> None:
    with pytest.raises(ValueError, match=message):
        WeeklyWindow(weekday, start, end)


@pytest.mark.parametrize(
    ("day", "windows", "message"),
    [
        (date(2025, 1, 6), ((600, 540),), "must end after it starts"),
        (date(2025, 1, 6), ((0, 1441),), "1440"),
        (date(2025, 1, 6), ((1, 2, 3),), "pairs"),
        (datetime(2025, 1, 6, tzinfo=UTC), (), "calendar date"),
    ],
)
def test_bad_override(day, windows, message) -> None:
    with pytest.raises(ValueError, match=message):
        DateOverride(day, windows)


def test_override_windows_are_normalised_to_tuples() -> None:
    override = DateOverride(date(2025, 1, 6), [[540, 600]])  # type: ignore[arg-type]
    assert override.windows == ((540, 600),)
    assert hash(override) == hash(DateOverride(date(2025, 1, 6), ((540, 600),)))


def test_windows_mutated_past_validation_are_rechecked() -> None:
    window = WeeklyWindow(0, 540, 600)
    object.__setattr__(window, "end_minute", 500)
    with pytest.raises(ValueError, match="must end after it starts"):
        open_slots(**_query(weekly=[window]))
