"""`/coaches` through discord.py's interaction pipeline: who is listed, sorting, the specialty
filter and its autocomplete, paging, opening a coach and booking from their offering card."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cogs.booking_seed import (
    MON,
    add_booking,
    at,
    new_member,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.harness import CommandUnavailableError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


@pytest.fixture
async def server(coachbot, guild):
    return await setup_server(coachbot, guild)


def titles(response):
    return [e.title for e in response.embeds]


def fields(embed):
    return {f.name: f.value for f in embed.fields}


async def three_coaches(bot, guild, members):
    """Ann: 4.8 from 5 ratings, $30, only Fridays. Ben: 5.0 from 2, free, Mon-Fri.
    Cleo: no ratings, $10, no hours at all."""
    ann = await seed_coach(bot, members[0], name="Ann", rating=(24, 5), weekdays=range(4, 5),
                           specialties=("Poetry", "Query letters"))
    ben = await seed_coach(bot, members[1], name="Ben", rating=(10, 2),
                           specialties=("poetry", "Developmental editing"))
    cleo = await seed_coach(bot, members[2], name="Cleo", weekdays=range(0),
                            specialties=("Screenwriting",))
    await seed_offering(bot, ann, title="Poem review", price_minor=3000)
    await seed_offering(bot, ben, title="Free chat")
    await seed_offering(bot, cleo, title="Script notes", price_minor=1000)
    return ann, ben, cleo


async def test_only_coaches_with_a_published_offering_are_listed(coachbot, driver, guild,
                                                                 members, server):
    ann = await seed_coach(coachbot, members[0], name="Ann")
    drafter = await seed_coach(coachbot, members[1], name="Drafter")
    await seed_coach(coachbot, members[2], name="Nobody")
    await seed_offering(coachbot, ann)
    await seed_offering(coachbot, drafter, status="draft")

    reply = await driver.slash(members[0], "coaches")

    assert reply.first.kind == 5  # deferred: next free times are computed first
    listed = reply.last
    assert listed.ephemeral and titles(listed) == ["Ann"]
    card = fields(listed.embeds[0])
    assert card["Price"] == "Free (1 offering)"
    assert card["Rating"] == "No ratings yet"
    assert card["Next free time"] == f"<t:{int(at(MON, 10).timestamp())}:R>"
    assert listed.content == "Coaches, best rated first · page 1 of 1"


@pytest.mark.parametrize(("sort", "order"), [
    (None, ["Ben", "Ann", "Cleo"]),
    ("rating", ["Ben", "Ann", "Cleo"]),
    ("price", ["Ben", "Cleo", "Ann"]),
    ("soonest", ["Ben", "Ann", "Cleo"]),
])
async def test_sorting(coachbot, driver, guild, members, server, sort, order):
    await three_coaches(coachbot, guild, members)
    reply = (await driver.slash(members[0], "coaches", sort=sort)).last
    assert titles(reply) == order
    by_name = {e.title: fields(e) for e in reply.embeds}
    assert by_name["Ann"]["Rating"] == "4.8 ★ (5 ratings)"
    assert by_name["Cleo"]["Next free time"] == "Nothing free soon"


async def test_soonest_counts_bookings_that_fill_a_coachs_days(coachbot, driver, guild,
                                                               members, server):
    early = await seed_coach(coachbot, members[0], name="Early", hours=(10, 11),
                             weekdays=range(0, 1))
    later = await seed_coach(coachbot, members[1], name="Later", hours=(12, 13))
    busy = await seed_offering(coachbot, early, min_notice_minutes=0)
    await seed_offering(coachbot, later, min_notice_minutes=0)
    # Early's only free hour today (10:00) is taken: next Monday comes after Later's 12:00.
    await add_booking(coachbot, busy, members[2].id, at(MON, 10))
    reply = (await driver.slash(members[2], "coaches", sort="soonest")).last
    assert titles(reply) == ["Later", "Early"]


async def test_specialty_filter_and_autocomplete(coachbot, driver, guild, members, server):
    await three_coaches(coachbot, guild, members)
    suggestions = await driver.autocomplete(members[0], "coaches", focused="specialty",
                                            value="")
    assert [c.value for c in suggestions] == [
        "Developmental editing", "Poetry", "Query letters", "Screenwriting"]
    typed = await driver.autocomplete(members[0], "coaches", focused="specialty", value="ED")
    assert [c.value for c in typed] == ["Developmental editing"]

    poets = (await driver.slash(members[0], "coaches", specialty="poetry")).last
    assert titles(poets) == ["Ben", "Ann"]
    assert poets.content.startswith("Coaches for “poetry”")
    nobody = (await driver.slash(members[0], "coaches", specialty="Knitting")).last
    assert nobody.ephemeral and "No coach here lists “Knitting”" in nobody.content
    assert nobody.components == []


async def test_nobody_to_book_yet(coachbot, driver, members, server):
    reply = (await driver.slash(members[0], "coaches")).last
    assert reply.ephemeral and reply.content.startswith("Nobody on this server has anything")


async def test_pages_of_four_with_previous_and_next(coachbot, driver, guild, members, server):
    people = [*members, *(new_member(guild, f"coach{i}") for i in range(3))]
    for number, member in enumerate(people):
        coach = await seed_coach(coachbot, member, name=f"Coach {number}")
        await seed_offering(coachbot, coach)
    first = (await driver.slash(members[0], "coaches")).last
    assert titles(first) == ["Coach 0", "Coach 1", "Coach 2", "Coach 3"]
    assert first.content.endswith("page 1 of 2")
    assert first.component("coaches:previous")["disabled"]
    assert len(first.component("coaches:open")["options"]) == 4

    second = (await driver.click(members[0], first, "coaches:next")).last
    assert titles(second) == ["Coach 4", "Coach 5"]
    assert second.component("coaches:next")["disabled"]
    back = (await driver.click(members[0], second, "coaches:previous")).last
    assert titles(back) == titles(first)


async def test_opening_a_coach_shows_their_card_and_offering_cards_then_books(
        coachbot, driver, guild, members, server):
    ann = await seed_coach(coachbot, members[0], name="Ann", bio="I edit poems.",
                           specialties=("Poetry",))
    review = await seed_offering(coachbot, ann, title="Poem review", price_minor=0,
                                 description="Line by line.")
    await seed_offering(coachbot, ann, title="Hidden", status="unpublished")
    async with coachbot.services.uow() as uow:
        await uow.offerings.set_thumbnail(
            review.id, content_type="image/png", data_base64=base64.b64encode(PNG).decode(),
            size_bytes=len(PNG), sha256=hashlib.sha256(PNG).hexdigest())
        await uow.commit()
    student = members[1]
    listed = (await driver.slash(student, "coaches")).last

    opened = (await driver.select(student, listed, "coaches:open", [str(ann.id)])).last

    assert titles(opened) == ["Ann", "Poem review"]
    coach_card, offering_card = opened.embeds
    assert coach_card.description == "I edit poems."
    assert fields(offering_card)["Price"] == "Free"
    assert offering_card.thumbnail.url.startswith("attachment://offering-")
    assert [f.filename for f in opened.files] == [offering_card.thumbnail.url.split("//")[1]]
    assert opened.custom_ids == [f"coaches:book:{review.id}", "coaches:list"]

    flow = (await driver.click(student, opened, f"coaches:book:{review.id}")).last
    assert flow.ephemeral and flow.content.startswith("**Poem review** with **Ann**")
    assert flow.component("book:day")

    back = (await driver.click(student, opened, "coaches:list")).last
    assert titles(back) == ["Ann"] and back.component("coaches:open")


async def test_book_button_checks_eligibility(coachbot, driver, guild, members, server):
    ann = await seed_coach(coachbot, members[0], name="Ann")
    review = await seed_offering(coachbot, ann)
    listed = (await driver.slash(members[0], "coaches")).last
    opened = (await driver.select(members[0], listed, "coaches:open", [str(ann.id)])).last
    refused = (await driver.click(members[0], opened, f"coaches:book:{review.id}")).last
    assert refused.ephemeral and refused.content.startswith("You can't book a session with")


async def test_a_coach_without_offerings_any_more(coachbot, driver, guild, members, server):
    ann = await seed_coach(coachbot, members[0], name="Ann")
    offering = await seed_offering(coachbot, ann)
    listed = (await driver.slash(members[1], "coaches")).last
    async with coachbot.services.uow() as uow:
        await uow.offerings.update(await uow.offerings.get(offering.id), status="unpublished")
        await uow.commit()
    reply = (await driver.select(members[1], listed, "coaches:open", [str(ann.id)])).last
    assert reply.ephemeral and "Ann has nothing to book right now" in reply.content


async def test_user_text_on_cards_never_pings(coachbot, driver, guild, members, server):
    ann = await seed_coach(coachbot, members[0], name="@everyone", bio="<@&1> hi")
    await seed_offering(coachbot, ann)
    reply = (await driver.slash(members[1], "coaches")).last
    assert reply.embeds[0].title == "@everyone" and reply.embeds[0].description == "<@&1> hi"
    assert reply.allowed_mentions == {"parse": []}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specialty=st.text(max_size=60))
async def test_fuzzed_specialties_always_get_an_answer(coachbot, driver, members, server,
                                                       specialty):
    reply = (await driver.slash(members[0], "coaches", specialty=specialty)).last
    assert reply.ephemeral and reply.content


@pytest.mark.parametrize("command", ["coaches", "sessions", "book"])
async def test_the_student_commands_are_server_only(coachbot, driver, members, command):
    with pytest.raises(CommandUnavailableError):
        await driver.slash(members[0], command, dm=True)
