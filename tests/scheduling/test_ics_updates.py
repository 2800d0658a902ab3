"""Reschedule updates (same UID, higher SEQUENCE), cancellations (METHOD:CANCEL), the private
feed's calendar and the "Add to Google Calendar" link; parsed back with icalendar and with the
independent content-line reader of test_ics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from scheduling import ics
from tests.scheduling.test_ics import NOW, START, components, content_lines, event, props


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    first = ics.session_calendar(event(), now=NOW)
    later = START + timedelta(days=1)
    moved = ics.rescheduled_calendar(event(start=later, end=later + timedelta(hours=1)),
                                     reschedule_count=2, now=NOW + timedelta(hours=1))
    before, after = props(first, "VEVENT"), props(moved, "VEVENT")
    assert before["UID"][1] == after["UID"][1] == "booking-42@coachbot"
    assert (before["SEQUENCE"][1], after["SEQUENCE"][1]) == ("0", "2")
    assert after["DTSTART"][1] == "20261125T100000Z"
    assert props(moved, "VCALENDAR")["METHOD"][1] == "REQUEST"
    parsed = Calendar.from_ical(moved).walk("VEVENT")[0]
    assert parsed["SEQUENCE"] == 2 and str(parsed["UID"]) == "booking-42@coachbot"
    with pytest.raises(ValueError):
        ics.rescheduled_calendar(event(), reschedule_count=0, now=NOW)


def test_a_cancellation_is_method_cancel_over_the_same_uid():
    data = ics.cancellation_ics(event(sequence=1), now=NOW)
    calendar = props(data, "VCALENDAR")
    assert calendar["METHOD"][1] == "CANCEL" and calendar["VERSION"][1] == "2.0"
    vevent = props(data, "VEVENT")
    assert vevent["UID"][1] == "booking-42@coachbot"
    assert vevent["STATUS"][1] == "CANCELLED"
    assert vevent["SEQUENCE"][1] == "2"
    assert vevent["DTSTART"][1] == "20261124T100000Z"
    assert vevent["ORGANIZER"][1] == "mailto:discord-800@users.coachbot.invalid"
    assert vevent["ATTENDEE"][1] == "mailto:discord-700@users.coachbot.invalid"
    assert "VALARM" not in components(data)
    parsed = Calendar.from_ical(data)
    assert str(parsed["METHOD"]) == "CANCEL"
    [cancelled] = parsed.walk("VEVENT")
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.decoded("DTSTART") == START


def test_the_feed_lists_every_session():
    later = START + timedelta(days=2)
    data = ics.feed_calendar(
        [event(), event(booking_id=43, start=later, end=later + timedelta(hours=1))],
        name="Coachbot: Sam's sessions", now=NOW)
    parsed = Calendar.from_ical(data)
    assert str(parsed["METHOD"]) == "PUBLISH"
    assert [str(e["UID"]) for e in parsed.walk("VEVENT")] == [
        "booking-42@coachbot", "booking-43@coachbot"]
    assert content_lines(data).count("BEGIN:VEVENT") == 2
    assert b"X-WR-CALNAME:Coachbot: Sam's sessions" in data


def test_google_calendar_link():
    link = ics.google_calendar_link(title="Mock interview with Coach Carla & co",
                                    start=START, end=START + timedelta(minutes=90),
                                    details="Join: https://x.org/a?b=1", location="Online")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://calendar.google.com/calendar/render")
    query = parse_qs(parts.query)
    assert query == {"action": ["TEMPLATE"], "text": ["Mock interview with Coach Carla & co"],
                     "dates": ["20261124T100000Z/20261124T113000Z"],
                     "details": ["Join: https://x.org/a?b=1"], "location": ["Online"]}
    local = datetime(2026, 11, 24, 11, 0, tzinfo=UTC).astimezone()
    short = ics.google_calendar_link(title="T", start=local, end=local + timedelta(hours=1))
    assert "details" not in short and "dates=20261124T110000Z%2F20261124T120000Z" in short
    with pytest.raises(ValueError):
        ics.google_calendar_link(title="T", start=datetime(2026, 1, 1),
                                 end=datetime(2026, 1, 2))
