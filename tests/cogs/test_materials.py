"""`/materials add|list` and the session card's Materials button: who may add, list and open a
session's materials, files kept in the private channel, links and notes, bad input."""

from __future__ import annotations

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.provisioning import provision_booking
from storage.models import Material
from tests.cogs.booking_seed import (
    TUE,
    add_booking,
    at,
    history,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.harness import CommandUnavailableError
from tests.harness.dpytest_fixes import grant_permissions


@pytest.fixture
async def world(coachbot, guild, members):
    student, other, coach_member = members
    await setup_server(coachbot, guild)
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach)
    booking = await add_booking(coachbot, offering, student.id, at(TUE, 10))
    await provision_booking(coachbot, booking.id)
    async with coachbot.services.uow() as uow:
        booking = await uow.bookings.get(booking.id)
    return student, other, coach_member, booking, offering


async def stored(bot) -> list[Material]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(Material).order_by(Material.id)))


async def test_a_file_goes_to_the_private_channel_and_the_reference_is_kept(
        coachbot, driver, guild, world):
    student, _, coach_member, booking, _ = world
    reply = (await driver.slash(coach_member, "materials add", session=booking.id,
                                type="homework", title="Week 1",
                                file={"filename": "week1.pdf", "content": b"%PDF-1.4 hi"})).last
    assert reply.ephemeral
    assert reply.content.startswith(f"Added **Week 1** (homework) to session #{booking.id}")

    channel = guild.get_channel(booking.text_channel_id)
    posted = (await history(channel))[-1]
    assert "Homework shared by" in posted.content and "**Week 1**" in posted.content
    assert [a.filename for a in posted.attachments] == ["week1.pdf"]
    [row] = await stored(coachbot)
    assert (row.booking_id, row.uploader_id, row.kind, row.title) == (
        booking.id, coach_member.id, "homework", "Week 1")
    assert row.message_id == posted.id and row.url == posted.attachments[0].url
    assert row.created_at is not None

    listed = (await driver.slash(student, "materials list", session=booking.id)).last
    assert listed.ephemeral
    assert f"homework: Week 1 <{row.url}>" in listed.content


async def test_links_and_text_from_either_participant(coachbot, driver, world):
    student, _, coach_member, booking, _ = world
    await driver.slash(student, "materials add", session=booking.id, type="manuscript",
                       link="https://docs.example.org/draft")
    await driver.slash(coach_member, "materials add", session=booking.id, type="notes",
                       title="Summary", text="Work on @everyone <@&1> pacing")
    rows = await stored(coachbot)
    assert [(r.uploader_id, r.kind, r.title, r.url, r.body) for r in rows] == [
        (student.id, "manuscript", "https://docs.example.org/draft",
         "https://docs.example.org/draft", None),
        (coach_member.id, "notes", "Summary", None, "Work on @everyone <@&1> pacing")]
    listed = (await driver.slash(coach_member, "materials list", session=booking.id)).last
    assert "notes: Summary: Work on @everyone <@&1> pacing" in listed.content
    assert listed.allowed_mentions == {"parse": []}
    mine = (await driver.slash(student, "materials list")).last
    assert f"session #{booking.id} (Mock interview)" in mine.content
    assert "manuscript: https://docs.example.org/draft" in mine.content


async def test_a_third_member_is_refused_everywhere(coachbot, driver, world):
    student, other, _, booking, _ = world
    await driver.slash(student, "materials add", session=booking.id, text="mine")

    added = (await driver.slash(other, "materials add", session=booking.id, text="x")).last
    assert added.ephemeral and "Only the student and the coach" in added.content
    listed = (await driver.slash(other, "materials list", session=booking.id)).last
    assert listed.ephemeral and "can see its materials" in listed.content
    channel = coachbot.get_channel(booking.text_channel_id)
    assert not channel.permissions_for(other).view_channel  # the cards are out of reach too
    assert len(await stored(coachbot)) == 1


async def test_admins_can_list_but_not_add(coachbot, driver, world):
    student, other, _, booking, _ = world
    await driver.slash(student, "materials add", session=booking.id, title="Plan", text="x")
    grant_permissions(other, discord.Permissions(manage_guild=True))
    listed = (await driver.slash(other, "materials list", session=booking.id)).last
    assert "notes: Plan: x" in listed.content
    added = (await driver.slash(other, "materials add", session=booking.id, text="y")).last
    assert "Only the student and the coach" in added.content


async def test_the_card_button_lists_materials_with_links(coachbot, driver, world):
    student, _, _, booking, _ = world
    await driver.slash(student, "materials add", session=booking.id, type="outline",
                       title="Plan", link="https://example.org/p.pdf")
    [card] = await history(student.dm_channel)
    reply = (await driver.click(student, card, f"session:materials:{booking.id}")).last
    assert reply.ephemeral and "outline: Plan <https://example.org/p.pdf>" in reply.content


async def test_autocomplete_offers_only_the_callers_sessions(coachbot, driver, world):
    student, other, coach_member, booking, offering = world
    await add_booking(coachbot, offering, other.id, at(TUE, 14))
    choices = await driver.autocomplete(student, "materials add", focused="session",
                                        value="")
    assert [c.value for c in choices] == [booking.id]
    assert choices[0].name.startswith(f"#{booking.id} Mock interview · 24 Nov 2026 10:00")
    coach_choices = await driver.autocomplete(coach_member, "materials list",
                                              focused="session", value="")
    assert len(coach_choices) == 2


@pytest.mark.parametrize(("options", "message"), [
    ({}, "Give exactly one of `file`, `link` or `text`"),
    ({"text": "a", "link": "https://x.org"}, "Give exactly one"),
    ({"link": "ftp://x.org/a"}, "must be a web address"),
    ({"link": "javascript:alert(1)"}, "must be a web address"),
    ({"text": "   "}, "The text is empty"),
    ({"text": "x" * 4001}, "too long"),
    ({"text": "a", "title": "t" * 201}, "title is too long"),
    ({"text": "a", "session": 999}, "There is no session #999"),
])
async def test_bad_input_writes_nothing(coachbot, driver, world, options, message):
    student, _, _, booking, _ = world
    reply = (await driver.slash(student, "materials add",
                                **{"session": booking.id, **options})).last
    assert reply.ephemeral and message in reply.content
    assert await stored(coachbot) == []


async def test_a_file_without_a_channel_is_refused(coachbot, driver, world):
    student, _, _, _, offering = world
    bare = await add_booking(coachbot, offering, student.id, at(TUE, 15))
    reply = (await driver.slash(student, "materials add", session=bare.id,
                                file={"filename": "a.txt", "content": b"a"})).last
    assert reply.ephemeral and "has no private channel" in reply.content
    assert await stored(coachbot) == []


async def test_unconfirmed_sessions_take_no_materials(coachbot, driver, world):
    student, _, _, _, offering = world
    held = await add_booking(coachbot, offering, student.id, at(TUE, 15),
                             status="cancelled")
    reply = (await driver.slash(student, "materials add", session=held.id, text="x")).last
    assert "is cancelled" in reply.content
    assert await stored(coachbot) == []


async def test_guild_only(driver, members):
    with pytest.raises(CommandUnavailableError):
        await driver.slash(members[0], "materials list", dm=True)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=300).filter(str.strip))
async def test_fuzzed_notes_are_kept_as_given(coachbot, driver, world, text):
    student, _, _, booking, _ = world
    reply = (await driver.slash(student, "materials add", session=booking.id, text=text)).last
    assert reply.ephemeral
    rows = await stored(coachbot)
    assert rows[-1].body == text
