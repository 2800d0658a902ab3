"""`/sessions` through discord.py's interaction pipeline: the caller's upcoming and past
sessions as student and as coach, paging, Join and Materials buttons where they apply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.provisioning import provision_booking
from storage.models import Material
from tests.cogs.booking_seed import (
    MON,
    TUE,
    add_booking,
    at,
    history,
    seed_coach,
    seed_offering,
    setup_server,
)


@pytest.fixture
async def setup(coachbot, members):
    student, other, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach)
    return student, other, coach_member, offering


def fields(embed):
    return {f.name: f.value for f in embed.fields}


def link_buttons(response):
    return [c for row in response.components for c in row["components"] if c.get("url")]


async def test_upcoming_sessions_as_student_and_as_coach(coachbot, driver, setup):
    student, _, coach_member, offering = setup
    booking = await add_booking(coachbot, offering, student.id, at(TUE, 10),
                                text_channel_id=111, voice_channel_id=222)

    mine = (await driver.slash(student, "sessions")).last

    assert mine.ephemeral
    assert mine.content == "Your upcoming sessions: 1 · page 1 of 1"
    [card] = mine.embeds
    assert card.title == "1. Mock interview"
    shown = fields(card)
    start = int(at(TUE, 10).timestamp())
    assert shown["When"] == f"<t:{start}:F> (<t:{start}:R>)"
    assert shown["With"] == f"Coach <@{coach_member.id}> (Coach Carla)"
    assert shown["Status"] == "Confirmed"
    assert shown["Where"] == "<#111> · <#222>"
    assert card.footer.text == f"You are the student · booking #{booking.id}"
    [join] = link_buttons(mine)
    assert join["label"] == "Join 1"
    assert join["url"] == f"https://discord.com/channels/{student.guild.id}/222"
    assert f"sessions:materials:{booking.id}" in mine.custom_ids
    assert [c for c in mine.custom_ids if "cancel" in c or "reschedule" in c] == [
        f"sessions:cancel:{booking.id}"]

    theirs = (await driver.slash(coach_member, "sessions")).last
    assert fields(theirs.embeds[0])["With"] == f"Student <@{student.id}>"
    assert theirs.embeds[0].footer.text.startswith("You coach this session")


async def test_a_generated_link_is_the_join_button(coachbot, driver, setup):
    student, _, _, offering = setup
    await add_booking(coachbot, offering, student.id, at(TUE, 10),
                      join_url="https://meet.jit.si/coachbot-abc")
    reply = (await driver.slash(student, "sessions")).last
    assert [b["url"] for b in link_buttons(reply)] == ["https://meet.jit.si/coachbot-abc"]


async def test_past_sessions_and_what_is_in_neither_list(coachbot, driver, setup):
    student, other, _, offering = setup
    await add_booking(coachbot, offering, student.id, at(MON, 6), status="completed")
    ended = await add_booking(coachbot, offering, student.id, at(MON, 7),
                              voice_channel_id=222)
    await add_booking(coachbot, offering, student.id, at(TUE, 12), status="cancelled")
    await add_booking(coachbot, offering, student.id, at(TUE, 14), status="expired")
    await add_booking(coachbot, offering, other.id, at(TUE, 15))  # someone else's

    upcoming = (await driver.slash(student, "sessions")).last
    assert upcoming.content.startswith("You have no upcoming sessions on this server")
    assert upcoming.embeds == []

    past = (await driver.click(student, upcoming, "sessions:past")).last
    assert [(e.title, fields(e)["Status"]) for e in past.embeds] == [
        ("1. Mock interview", "Cancelled"), ("2. Mock interview", "Ended"),
        ("3. Mock interview", "Completed")]
    assert past.embeds[1].footer.text.endswith(f"booking #{ended.id}")
    assert link_buttons(past) == []  # nothing to join any more
    assert past.component("sessions:past")["disabled"]
    assert not past.component("sessions:upcoming")["disabled"]


async def test_a_session_running_now_is_upcoming_and_in_progress(coachbot, driver, setup):
    student, _, _, offering = setup
    await add_booking(coachbot, offering, student.id, at(MON, 8, 30), voice_channel_id=222)
    reply = (await driver.slash(student, "sessions")).last
    assert fields(reply.embeds[0])["Status"] == "In progress"
    assert len(link_buttons(reply)) == 1


async def test_pages_of_four(coachbot, driver, setup):
    student, _, _, offering = setup
    for day in range(6):
        await add_booking(coachbot, offering, student.id, at(TUE + timedelta(days=day), 10))

    first = (await driver.slash(student, "sessions")).last
    assert first.content == "Your upcoming sessions: 6 · page 1 of 2"
    assert [e.title for e in first.embeds] == [f"{n}. Mock interview" for n in range(1, 5)]
    assert first.component("sessions:previous")["disabled"]
    second = (await driver.click(student, first, "sessions:next")).last
    assert [e.title for e in second.embeds] == ["5. Mock interview", "6. Mock interview"]
    assert second.component("sessions:next")["disabled"]
    assert second.custom_ids.count("sessions:next") == 1
    assert [c for c in second.custom_ids if c.startswith("sessions:materials:")] == [
        "sessions:materials:5", "sessions:materials:6"]
    again = (await driver.click(student, second, "sessions:previous")).last
    assert again.content.endswith("page 1 of 2")


async def test_materials_from_the_list(coachbot, driver, setup):
    student, _, coach_member, offering = setup
    booking = await add_booking(coachbot, offering, student.id, at(TUE, 10))
    async with coachbot.services.uow() as uow:
        uow.session.add(Material(booking_id=booking.id, uploader_id=coach_member.id,
                                 kind="outline", title="Plan", url="https://example.org/p.pdf"))
        await uow.commit()
    listed = (await driver.slash(student, "sessions")).last
    reply = (await driver.click(student, listed, f"sessions:materials:{booking.id}")).last
    assert reply.ephemeral and "outline: Plan <https://example.org/p.pdf>" in reply.content


async def test_paging_sessions_never_breaks_the_materials_button_of_session_cards(
        coachbot, driver, guild, setup):
    student, _, _, offering = setup
    await setup_server(coachbot, guild)
    booking = await add_booking(coachbot, offering, student.id, at(TUE, 10))
    await provision_booking(coachbot, booking.id)
    [card] = await history(student.dm_channel)

    listed = (await driver.slash(student, "sessions")).last
    empty = (await driver.click(student, listed, "sessions:past")).last  # no Materials there
    assert empty.embeds == []
    coachbot._connection._view_store._synced_message_views[empty.message_id].stop()  # timeout

    reply = (await driver.click(student, card, f"session:materials:{booking.id}")).last
    assert reply.ephemeral and reply.content == "No materials shared yet for this session."


async def test_nothing_booked_anywhere(coachbot, driver, members):
    reply = (await driver.slash(members[0], "sessions")).last
    assert reply.ephemeral and "Book one with `/book`" in reply.content
    past = (await driver.click(members[0], reply, "sessions:past")).last
    assert past.content == "You have no past sessions on this server yet."
