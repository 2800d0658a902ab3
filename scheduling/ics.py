"""An RFC 5545 calendar file (`.ics`) for a booked session, built with `icalendar`.

- ``UID`` is ``booking-{id}@coachbot``: stable per booking, so a later update (a reschedule,
  with a higher ``SEQUENCE``) or a ``METHOD:CANCEL`` replaces the same calendar entry.
- ``SEQUENCE`` is the booking's reschedule count.
- ``DTSTART``/``DTEND``/``DTSTAMP`` are UTC (``...Z``); calendar apps show them in local time.
- ``METHOD:REQUEST`` with ``ORGANIZER`` (the coach) and ``ATTENDEE`` (the student), as iTIP
  (RFC 5546) requires for a request.
- Discord users have no e-mail addresses. Both parties get a placeholder address under the
  reserved ``.invalid`` top-level domain (RFC 2606), ``discord-{user id}@users.coachbot.invalid``,
  which can never deliver mail, with their name as ``CN``; the attendee has ``RSVP=FALSE`` and
  ``PARTSTAT=ACCEPTED`` so calendar apps add the event without offering to e-mail a reply.
- ``LOCATION`` and ``URL`` are the join link (``LOCATION`` falls back to a description of the
  Discord channel when the session happens on Discord); ``DESCRIPTION`` repeats the details.
- A ``VALARM`` (display) 15 minutes before the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

PRODID: Final = "-//Coachbot//Coaching sessions//EN"
PLACEHOLDER_DOMAIN: Final = "users.coachbot.invalid"
ALARM_BEFORE: Final = timedelta(minutes=15)


def uid_for(booking_id: int) -> str:
    return f"booking-{booking_id}@coachbot"


def participant_address(user_id: int) -> str:
    """A ``mailto:`` URI that names the Discord user and can never receive mail."""
    return f"mailto:discord-{user_id}@{PLACEHOLDER_DOMAIN}"


def filename_for(booking_id: int) -> str:
    return f"coaching-session-{booking_id}.ics"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: str) -> str:
    """A TEXT value without bare carriage returns or other control characters (line breaks
    become LF, which icalendar writes as ``\\n``)."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _display_name(name: str) -> str:
    """A parameter-safe common name: one line, without the characters calendar apps disagree
    about in parameter values: double quotes and carets (RFC 6868 escapes, not decoded
    everywhere) and backslashes (some parsers read ``\\:`` as an escaped colon)."""
    for unsafe, safe in (('"', "'"), ("^", "'"), ("\\", "/")):
        name = name.replace(unsafe, safe)
    cleaned = re.sub(r"\s+", " ", _CONTROL.sub(" ", name)).strip()
    return cleaned or "Discord user"


@dataclass(frozen=True)
class Participant:
    user_id: int
    name: str


@dataclass(frozen=True)
class SessionEvent:
    booking_id: int
    title: str
    start: datetime
    end: datetime
    coach: Participant
    student: Participant
    session_type: str  # shown as is, e.g. "Video call"
    join_url: str | None = None
    where: str | None = None  # shown when there is no join link, e.g. "Discord voice channel"
    channel_url: str | None = None
    sequence: int = 0


def _address(person: Participant, *, role: str | None = None) -> vCalAddress:
    address = vCalAddress(participant_address(person.user_id))
    address.params["cn"] = vText(_display_name(person.name))
    if role is not None:
        address.params["role"] = vText(role)
        address.params["partstat"] = vText("ACCEPTED")
        address.params["rsvp"] = vText("FALSE")
    return address


def description_for(event: SessionEvent) -> str:
    lines = [
        f"{event.title}",
        f"Coach: {event.coach.name}",
        f"Student: {event.student.name}",
        f"Session: {event.session_type}",
    ]
    if event.join_url:
        lines.append(f"Join: {event.join_url}")
    elif event.where:
        lines.append(f"Where: {event.where}")
    if event.channel_url:
        lines.append(f"Session channel on Discord: {event.channel_url}")
    lines.append("Booked with Coachbot.")
    return "\n".join(lines)


def session_calendar(event: SessionEvent, *, now: datetime) -> bytes:
    """The ``.ics`` file for one session, as bytes (UTF-8, CRLF lines folded at 75 octets)."""
    if event.start.tzinfo is None or event.end.tzinfo is None or now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    if event.end <= event.start:
        raise ValueError("a session must end after it starts")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")

    vevent = Event()
    vevent.add("uid", uid_for(event.booking_id))
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("summary", _text(f"{event.title} with {event.coach.name}"))
    vevent.add("description", _text(description_for(event)))
    location = event.join_url or event.where or event.channel_url
    if location:
        vevent.add("location", _text(location))
    url = event.join_url or event.channel_url
    if url:
        vevent.add("url", url)
    vevent.add("organizer", _address(event.coach))
    vevent.add("attendee", _address(event.student, role="REQ-PARTICIPANT"))

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _text(f"{event.title} starts in 15 minutes"))
    alarm.add("trigger", -ALARM_BEFORE)
    vevent.add_component(alarm)

    calendar.add_component(vevent)
    return calendar.to_ical()


# ---------------------------------------------------------------- updates, cancellations, links
# A reschedule is `session_calendar` again with the same UID and the booking's new
# reschedule count as SEQUENCE (`rescheduled_calendar` makes that explicit); a cancellation is
# `METHOD:CANCEL` with STATUS:CANCELLED and a SEQUENCE one higher than the last update, so
# calendar apps apply it over every earlier version of the event.

GOOGLE_TEMPLATE: Final = "https://calendar.google.com/calendar/render"


def rescheduled_calendar(event: SessionEvent, *, reschedule_count: int,
                         now: datetime) -> bytes:
    """The update sent after a reschedule: same UID, new times, SEQUENCE = reschedule count."""
    if reschedule_count < 1:
        raise ValueError("a reschedule has a reschedule count of at least 1")
    return session_calendar(_with_sequence(event, reschedule_count), now=now)


def cancellation_ics(event: SessionEvent, *, now: datetime) -> bytes:
    """``METHOD:CANCEL`` for the session (same UID; SEQUENCE = the event's sequence + 1)."""
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL")
    vevent = Event()
    vevent.add("uid", uid_for(event.booking_id))
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("sequence", event.sequence + 1)
    vevent.add("status", "CANCELLED")
    vevent.add("summary", _text(f"Cancelled: {event.title} with {event.coach.name}"))
    vevent.add("organizer", _address(event.coach))
    vevent.add("attendee", _address(event.student, role="REQ-PARTICIPANT"))
    calendar.add_component(vevent)
    return calendar.to_ical()


def _with_sequence(event: SessionEvent, sequence: int) -> SessionEvent:
    return replace(event, sequence=sequence)


def _google_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_link(*, title: str, start: datetime, end: datetime,
                         details: str = "", location: str = "") -> str:
    """An "Add to Google Calendar" link (Google's event template URL), times in UTC."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    query = {"action": "TEMPLATE", "text": title,
             "dates": f"{_google_time(start)}/{_google_time(end)}"}
    if details:
        query["details"] = details
    if location:
        query["location"] = location
    return f"{GOOGLE_TEMPLATE}?{urlencode(query)}"


def feed_calendar(events: list[SessionEvent], *, name: str, now: datetime) -> bytes:
    """A subscribable calendar (``METHOD:PUBLISH``) of sessions, for the private feed."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _text(name))
    for event in events:
        vevent = Event()
        vevent.add("uid", uid_for(event.booking_id))
        vevent.add("dtstamp", now.astimezone(UTC))
        vevent.add("dtstart", event.start.astimezone(UTC))
        vevent.add("dtend", event.end.astimezone(UTC))
        vevent.add("sequence", event.sequence)
        vevent.add("status", "CONFIRMED")
        vevent.add("summary", _text(f"{event.title} with {event.coach.name}"))
        vevent.add("description", _text(description_for(event)))
        location = event.join_url or event.where or event.channel_url
        if location:
            vevent.add("location", _text(location))
        calendar.add_component(vevent)
    return calendar.to_ical()
