"""`/calendar link|reset` and `GET /calendar/{token}.ics` with the real bot and web server: the
feed lists the member's upcoming sessions (as coach and as student), rotated and unknown
tokens get 404 and reveal nothing, only hashes are stored."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.web import WebServer
from scheduling.calendar_feed import hash_token
from storage.models import CalendarFeed
from tests.cogs.booking_seed import MON, TUE, add_booking, at, seed_coach, seed_offering
from tests.harness import CommandUnavailableError
from tests.scheduling.test_ics import content_lines, props

URL = re.compile(r"<(http://[^>]+/calendar/([A-Za-z0-9_-]+)\.ics)>")


@pytest.fixture
async def web(coachbot):
    server = WebServer(coachbot, host="127.0.0.1", port=0)
    await server.start()
    async with aiohttp.ClientSession() as http:
        yield server, http
    await server.stop()


@pytest.fixture
async def sessions(coachbot, members):
    student, other, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach)
    mine = await add_booking(coachbot, offering, student.id, at(TUE, 10), reschedule_count=1,
                             join_url="https://meet.example/x")
    theirs = await add_booking(coachbot, offering, other.id, at(TUE, 14))
    await add_booking(coachbot, offering, student.id, at(TUE, 16), status="cancelled")
    await add_booking(coachbot, offering, student.id, at(MON - timedelta(days=7), 10),
                      status="completed")
    return mine, theirs


async def fetch(web, url: str) -> tuple[int, str, bytes]:
    server, http = web
    path = url.split("/calendar/", 1)[1]
    async with http.get(f"{server.url}/calendar/{path}") as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def link_of(driver, member, command="calendar link") -> tuple[str, str]:
    reply = (await driver.slash(member, command)).last
    assert reply.ephemeral
    url, token = URL.search(reply.content).groups()
    return url, token


async def test_the_feed_lists_the_members_upcoming_sessions(coachbot, driver, web, members,
                                                            sessions):
    student, _, coach_member = members
    mine, theirs = sessions
    url, token = await link_of(driver, student)
    assert url == f"{coachbot.services.settings.web.public_url}/calendar/{token}.ics"

    status, kind, body = await fetch(web, url)
    assert status == 200 and kind.startswith("text/calendar")
    parsed = Calendar.from_ical(body)
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{mine.id}@coachbot"
    assert event.decoded("DTSTART") == at(TUE, 10)
    assert event["SEQUENCE"] == 1
    assert str(event["LOCATION"]) == "https://meet.example/x"
    assert props(body, "VEVENT")["DTEND"][1] == "20261124T110000Z"  # the second parser
    assert content_lines(body)[0] == "BEGIN:VCALENDAR"

    _, coach_token = await link_of(driver, coach_member)
    _, _, coach_body = await fetch(web, f"x/calendar/{coach_token}.ics")
    uids = [str(e["UID"]) for e in Calendar.from_ical(coach_body).walk("VEVENT")]
    assert uids == [f"booking-{mine.id}@coachbot", f"booking-{theirs.id}@coachbot"]


async def test_only_a_hash_is_stored_and_link_does_not_show_it_twice(coachbot, driver, members):
    student = members[0]
    _, token = await link_of(driver, student)
    async with coachbot.services.uow() as uow:
        [row] = list(await uow.session.scalars(select(CalendarFeed)))
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    again = (await driver.slash(student, "calendar link")).last
    assert again.ephemeral and "cannot show it again" in again.content
    assert "/calendar/" not in again.content


async def test_a_rotated_token_gets_404(coachbot, driver, web, members, sessions):
    student = members[0]
    old_url, old_token = await link_of(driver, student)
    new_url, new_token = await link_of(driver, student, "calendar reset")
    assert new_token != old_token
    assert (await fetch(web, old_url))[0] == 404
    assert (await fetch(web, new_url))[0] == 200
    async with coachbot.services.uow() as uow:
        assert len(list(await uow.session.scalars(select(CalendarFeed)))) == 1


@pytest.mark.parametrize("token", ["A" * 43, "short", "..%2F..%2Fetc", "a" * 300])
async def test_unknown_tokens_get_404_and_reveal_nothing(web, sessions, token):
    status, _, body = await fetch(web, f"x/calendar/{token}.ics")
    assert status == 404
    assert body == b"Not found"


async def test_guild_only(driver, members):
    with pytest.raises(CommandUnavailableError):
        await driver.slash(members[0], "calendar link", dm=True)
