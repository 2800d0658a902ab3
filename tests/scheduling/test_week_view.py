"""The weekly-hours view: text in the coach's zone and next occurrences for Discord timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scheduling.slots import WeeklyWindow
from scheduling.week_view import (
    WindowOccurrence,
    discord_timestamp,
    next_occurrences,
    render_week,
)

WEEKDAYS_9_TO_5 = [WeeklyWindow(day, 9 * 60, 17 * 60) for day in range(5)]


def test_render_week_lists_every_day_monday_first() -> None:
    weekly = [
        WeeklyWindow(0, 13 * 60, 17 * 60),
        WeeklyWindow(0, 9 * 60, 12 * 60),
        WeeklyWindow(5, 10 * 60, 14 * 60),
        WeeklyWindow(4, 22 * 60, 1440),
    ]
    lines = render_week(weekly, "Europe/Berlin", reference=date(2025, 1, 6))
    assert lines[1:] == [
        "Monday: 09:00–12:00, 13:00–17:00",
        "Tuesday: unavailable",
        "Wednesday: unavailable",
        "Thursday: unavailable",
        "Friday: 22:00–24:00",
        "Saturday: 10:00–14:00",
        "Sunday: unavailable",
    ]


def test_render_week_merges_overlapping_and_touching_windows() -> None:
    weekly = [WeeklyWindow(2, 540, 660), WeeklyWindow(2, 600, 720), WeeklyWindow(2, 720, 780)]
    assert render_week(weekly, "UTC", reference=date(2025, 1, 6))[3] == "Wednesday: 09:00–13:00"


@pytest.mark.parametrize(
    ("tz", "reference", "offset"),
    [
        ("Europe/Berlin", date(2025, 1, 6), "UTC+01:00"),
        ("Europe/Berlin", date(2025, 7, 7), "UTC+02:00"),
        ("Asia/Kolkata", date(2025, 1, 6), "UTC+05:30"),
        ("America/St_Johns", date(2025, 1, 6), "UTC-03:30"),
    ],
)
def test_render_week_header_names_the_zone_and_its_offset_on_the_reference_date(
    tz, reference, offset
) -> None:
    header = render_week(WEEKDAYS_9_TO_5, tz, reference=reference)[0]
    assert tz in header
    assert offset in header


def test_render_week_rejects_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="Unknown timezone"):
        render_week(WEEKDAYS_9_TO_5, "Europe/Atlantis", reference=date(2025, 1, 6))


def test_next_occurrences_give_utc_instants_in_weekday_order() -> None:
    now = datetime(2025, 3, 4, 18, tzinfo=UTC)  # Tuesday evening, after Tuesday's hours
    occurrences = next_occurrences(WEEKDAYS_9_TO_5, "Europe/Berlin", now=now)
    assert [o.weekday for o in occurrences] == [0, 1, 2, 3, 4]
    assert occurrences[0] == WindowOccurrence(
        0, 540, 1020, datetime(2025, 3, 10, 8, tzinfo=UTC), datetime(2025, 3, 10, 16, tzinfo=UTC)
    )
    assert occurrences[1].start == datetime(2025, 3, 11, 8, tzinfo=UTC)  # Tuesday: next week
    assert occurrences[2].start == datetime(2025, 3, 5, 8, tzinfo=UTC)  # Wednesday: tomorrow


def test_next_occurrence_includes_the_window_in_progress() -> None:
    now = datetime(2025, 3, 3, 12, tzinfo=UTC)  # Monday noon in Berlin
    monday = next_occurrences(WEEKDAYS_9_TO_5, "Europe/Berlin", now=now)[0]
    assert (monday.start, monday.end) == (
        datetime(2025, 3, 3, 8, tzinfo=UTC),
        datetime(2025, 3, 3, 16, tzinfo=UTC),
    )


def test_next_occurrence_follows_the_clock_change() -> None:
    # Berlin moves to CEST on Sunday 30 March 2025: Monday 09:00 becomes 07:00 UTC.
    now = datetime(2025, 3, 28, 18, tzinfo=UTC)
    monday = next_occurrences(WEEKDAYS_9_TO_5, "Europe/Berlin", now=now)[0]
    assert monday.start == datetime(2025, 3, 31, 7, tzinfo=UTC)


def test_next_occurrence_skips_one_emptied_by_a_spring_forward_gap() -> None:
    # Sunday 02:30-03:00 in New York has no length on 9 March 2025 (02:30 EST is after 03:00 EDT).
    weekly = [WeeklyWindow(6, 150, 180)]
    occurrence = next_occurrences(weekly, "America/New_York", now=datetime(2025, 3, 8, tzinfo=UTC))[
        0
    ]
    assert occurrence.start == datetime(2025, 3, 16, 6, 30, tzinfo=UTC)


def test_next_occurrence_skips_the_given_dates() -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    skip = [date(2025, 3, 3), date(2025, 3, 10)]
    monday = next_occurrences(WEEKDAYS_9_TO_5, "Europe/Berlin", now=now, skip=skip)[0]
    assert monday.start == datetime(2025, 3, 17, 8, tzinfo=UTC)


def test_coach_monday_can_be_the_readers_sunday() -> None:
    weekly = [WeeklyWindow(0, 9 * 60, 11 * 60)]
    occurrence = next_occurrences(
        weekly, "Pacific/Auckland", now=datetime(2025, 1, 10, tzinfo=UTC)
    )[0]
    assert occurrence.start == datetime(2025, 1, 12, 20, tzinfo=UTC)  # a Sunday in UTC
    assert discord_timestamp(occurrence.start, "F") == "<t:1736712000:F>"


def test_next_occurrences_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone"):
        next_occurrences(WEEKDAYS_9_TO_5, "Europe/Berlin", now=datetime(2025, 1, 6))


def test_discord_timestamp() -> None:
    moment = datetime(2025, 1, 6, 9, tzinfo=UTC)
    assert discord_timestamp(moment) == "<t:1736154000:t>"
    assert discord_timestamp(moment, "R") == "<t:1736154000:R>"
    with pytest.raises(ValueError, match="style"):
        discord_timestamp(moment, "x")
    with pytest.raises(ValueError, match="timezone"):
        discord_timestamp(datetime(2025, 1, 6, 9))
