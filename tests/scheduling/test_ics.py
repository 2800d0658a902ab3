"""The session's `.ics`: parsed back with icalendar, and checked again field by field with a
small independent reader of RFC 5545 content lines (unfolding, parameters, TEXT escapes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduling import ics

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)
JOIN = "https://meet.jit.si/coachbot-AbC_dEf-123456789012"


def event(**changes) -> ics.SessionEvent:
    values = {
        "booking_id": 42, "title": "Mock interview", "start": START,
        "end": START + timedelta(minutes=90),
        "coach": ics.Participant(800, "Coach Carla"),
        "student": ics.Participant(700, "Sam Student"),
        "session_type": "Video call", "join_url": JOIN,
        "where": "Video link generated for each session",
        "channel_url": "https://discord.com/channels/1/2", "sequence": 0,
    }
    values.update(changes)
    return ics.SessionEvent(**values)


# ---------------------------------------------------------------- an independent reader


def content_lines(data: bytes) -> list[str]:
    """RFC 5545 3.1: lines end with CRLF, are at most 75 octets, and continue on lines that
    start with a space or a tab."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical), "line longer than 75 octets"
    assert "\n" not in text.replace("\r\n", "")
    logical: list[str] = []
    for line in physical:
        if line[:1] in (" ", "\t"):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def split_line(line: str) -> tuple[str, dict[str, str], str]:
    """`NAME;P1=a;P2="b:c":value` -> (NAME, {P1: a, P2: b:c}, value)."""
    match = re.match(r"([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:\"[^\"]*\"|[^\";:,]*))*):(.*)$",
                     line, re.DOTALL)
    assert match, f"not a content line: {line!r}"
    name, raw_params, value = match.groups()
    params = {}
    for pname, pvalue in re.findall(r";([A-Za-z0-9-]+)=(\"[^\"]*\"|[^\";:,]*)", raw_params):
        params[pname.upper()] = pvalue[1:-1] if pvalue.startswith('"') else pvalue
    return name.upper(), params, value


def unescape(text: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def components(data: bytes) -> dict[str, list[tuple[str, dict[str, str], str]]]:
    """Properties of each component, by component name (nested BEGIN/END checked)."""
    stack: list[str] = []
    found: dict[str, list[tuple[str, dict[str, str], str]]] = {}
    for line in content_lines(data):
        name, params, value = split_line(line)
        if name == "BEGIN":
            stack.append(value)
            found.setdefault(value, [])
        elif name == "END":
            assert stack.pop() == value
        else:
            found[stack[-1]].append((name, params, value))
    assert stack == []
    return found


def props(data: bytes, component: str) -> dict[str, tuple[dict[str, str], str]]:
    items = components(data)[component]
    names = [n for n, _, _ in items]
    assert len(names) == len(set(names)), f"repeated property in {component}: {names}"
    return {n: (params, value) for n, params, value in items}


# ---------------------------------------------------------------- the file


def test_fields_by_an_independent_reader():
    data = ics.session_calendar(event(), now=NOW)
    calendar = props(data, "VCALENDAR")
    assert calendar["VERSION"][1] == "2.0"
    assert calendar["PRODID"][1] == "-//Coachbot//Coaching sessions//EN"
    assert calendar["METHOD"][1] == "REQUEST"
    vevent = props(data, "VEVENT")
    assert vevent["UID"][1] == "booking-42@coachbot"
    assert vevent["DTSTAMP"][1] == "20261123T090005Z"
    assert vevent["DTSTART"] == ({}, "20261124T100000Z")
    assert vevent["DTEND"] == ({}, "20261124T113000Z")
    assert vevent["SEQUENCE"][1] == "0"
    assert vevent["STATUS"][1] == "CONFIRMED"
    assert unescape(vevent["SUMMARY"][1]) == "Mock interview with Coach Carla"
    assert vevent["LOCATION"][1] == JOIN
    assert vevent["URL"][1] == JOIN
    assert unescape(vevent["DESCRIPTION"][1]).splitlines() == [
        "Mock interview", "Coach: Coach Carla", "Student: Sam Student", "Session: Video call",
        f"Join: {JOIN}", "Session channel on Discord: https://discord.com/channels/1/2",
        "Booked with Coachbot."]
    organizer_params, organizer = vevent["ORGANIZER"]
    assert organizer == "mailto:discord-800@users.coachbot.invalid"
    assert organizer_params == {"CN": "Coach Carla"}
    attendee_params, attendee = vevent["ATTENDEE"]
    assert attendee == "mailto:discord-700@users.coachbot.invalid"
    assert attendee_params == {"CN": "Sam Student", "ROLE": "REQ-PARTICIPANT",
                               "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"}
    alarm = props(data, "VALARM")
    assert alarm["ACTION"][1] == "DISPLAY"
    assert alarm["TRIGGER"][1] == "-PT15M"
    assert unescape(alarm["DESCRIPTION"][1]) == "Mock interview starts in 15 minutes"


def test_fields_parsed_back_with_icalendar():
    calendar = Calendar.from_ical(ics.session_calendar(event(sequence=2), now=NOW))
    assert str(calendar["METHOD"]) == "REQUEST"
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == "booking-42@coachbot"
    assert vevent.decoded("DTSTART") == START
    assert vevent.decoded("DTEND") == START + timedelta(minutes=90)
    assert vevent.decoded("DTSTAMP") == NOW
    assert vevent.decoded("SEQUENCE") == 2
    assert str(vevent["SUMMARY"]) == "Mock interview with Coach Carla"
    assert JOIN in str(vevent["DESCRIPTION"])
    assert str(vevent["URL"]) == JOIN and str(vevent["LOCATION"]) == JOIN
    assert vevent["ORGANIZER"].params["CN"] == "Coach Carla"
    assert str(vevent["ATTENDEE"]) == "mailto:discord-700@users.coachbot.invalid"
    assert vevent["ATTENDEE"].params["RSVP"] == "FALSE"
    [alarm] = vevent.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)


def test_uid_is_stable_per_booking_and_dtstamp_follows_now():
    first = ics.session_calendar(event(), now=NOW)
    again = ics.session_calendar(event(sequence=1), now=NOW + timedelta(days=1))
    assert props(first, "VEVENT")["UID"] == props(again, "VEVENT")["UID"]
    assert props(again, "VEVENT")["SEQUENCE"][1] == "1"
    assert props(again, "VEVENT")["DTSTAMP"][1] == "20261124T090005Z"
    assert props(ics.session_calendar(event(booking_id=43), now=NOW), "VEVENT")["UID"][1] == (
        "booking-43@coachbot")


def test_times_in_other_zones_are_written_in_utc():
    berlin = START.astimezone(ZoneInfo("Europe/Berlin"))
    data = ics.session_calendar(event(start=berlin, end=berlin + timedelta(hours=1)),
                                now=NOW.astimezone(ZoneInfo("America/New_York")))
    vevent = props(data, "VEVENT")
    assert vevent["DTSTART"][1] == "20261124T100000Z"
    assert vevent["DTEND"][1] == "20261124T110000Z"
    assert vevent["DTSTAMP"][1] == "20261123T090005Z"


def test_without_a_join_link_location_says_where_and_url_is_the_channel():
    vevent = props(ics.session_calendar(event(join_url=None, where="Private Discord voice "
                                              "channel"), now=NOW), "VEVENT")
    assert unescape(vevent["LOCATION"][1]) == "Private Discord voice channel"
    assert vevent["URL"][1] == "https://discord.com/channels/1/2"
    nothing = props(ics.session_calendar(event(join_url=None, where=None, channel_url=None),
                                         now=NOW), "VEVENT")
    assert "LOCATION" not in nothing and "URL" not in nothing


def test_bad_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        ics.session_calendar(event(start=START.replace(tzinfo=None)), now=NOW)
    with pytest.raises(ValueError, match="end after it starts"):
        ics.session_calendar(event(end=START), now=NOW)


def test_names_are_made_safe_for_parameters():
    data = ics.session_calendar(event(coach=ics.Participant(1, 'Dr. "Q", Jr;\n Esq. \\o^'),
                                      student=ics.Participant(2, "   ")), now=NOW)
    vevent = props(data, "VEVENT")
    assert vevent["ORGANIZER"][0]["CN"] == "Dr. 'Q', Jr; Esq. /o'"
    assert vevent["ATTENDEE"][0]["CN"] == "Discord user"


def test_filename_and_placeholder_address():
    assert ics.filename_for(42) == "coaching-session-42.ics"
    assert ics.participant_address(7) == "mailto:discord-7@users.coachbot.invalid"


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=80)


@settings(max_examples=80, deadline=None)
@given(title=st.text(min_size=1, max_size=150), coach=names, student=names)
def test_any_text_round_trips_through_both_readers(title, coach, student):
    data = ics.session_calendar(event(title=title, coach=ics.Participant(1, coach),
                                      student=ics.Participant(2, student)), now=NOW)
    expected_coach = ics._display_name(coach)
    vevent = props(data, "VEVENT")
    assert unescape(vevent["SUMMARY"][1]) == ics._text(f"{title} with {coach}")
    assert vevent["ORGANIZER"][0]["CN"] == expected_coach
    assert not set(expected_coach) & set('"^\\\r\n')
    parsed = Calendar.from_ical(data).walk("VEVENT")[0]
    assert parsed["ORGANIZER"].params["CN"] == expected_coach
    assert parsed["ATTENDEE"].params["CN"] == ics._display_name(student)
    assert str(parsed["UID"]) == "booking-42@coachbot"
