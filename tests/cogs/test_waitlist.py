"""`/waitlist` through the driver: join/leave/list, the offer DM after a cancellation, the
hand-over to the next student on Pass and on timeout (the loop's function run directly after
advancing the clock), and Book booking the offered time (free and paid)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.cancellation import CONFIRM_ID, REASON_ID
from bot.waitlist import ABANDON_ID, BOOK_ID, PASS_ID
from payments.stripe_gateway import StripeGateway
from storage.models import WaitlistEntry
from tests.cogs.booking_seed import (
    TUE,
    add_booking,
    at,
    bookings,
    history,
    new_member,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.fixtures_bot import stripe_settings

TUE_10 = at(TUE, 10)
UNIX = int(TUE_10.timestamp())


@pytest.fixture
async def world(coachbot, driver, guild, members, clock):
    await setup_server(coachbot, guild)
    student, other, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach, title="Intro call", price_minor=0)
    return {"bot": coachbot, "driver": driver, "student": student, "other": other,
            "coach": coach_member, "offering": offering, "clock": clock}


async def entries(bot):
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id)))


async def offers_to(member):
    return [m for m in await history(member.dm_channel) if m.components]


async def coach_cancels(w, booking_id):
    driver, coach = w["driver"], w["coach"]
    shown = await driver.slash(coach, "cancel", booking=booking_id)
    opened = await driver.click(coach, shown.last, CONFIRM_ID)
    await driver.submit_modal(coach, opened, {REASON_ID: "Moved"})


async def booked_by_someone(w):
    booker = new_member(w["bot"].guilds[0], "Booker")
    return await add_booking(w["bot"], w["offering"], booker.id, TUE_10)


async def two_waiting_and_a_cancellation(w):
    booked = await booked_by_someone(w)
    await w["driver"].slash(w["student"], "waitlist join", coach="Coach Carla")
    w["clock"].advance(seconds=1)
    await w["driver"].slash(w["other"], "waitlist join", coach="Coach Carla",
                            offering="Intro call", days=3)
    await coach_cancels(w, booked.id)
    return booked


# ---------------------------------------------------------------- join / leave / list


async def test_join_list_and_leave(world):
    driver, student = world["driver"], world["student"]

    joined = (await driver.slash(student, "waitlist join", coach="Coach Carla", days=7)).last
    assert joined.ephemeral and "Coach Carla" in joined.content and "7 days" in joined.content
    [entry] = await entries(world["bot"])
    assert (entry.student_id, entry.offering_id, entry.days, entry.status) == (
        student.id, None, 7, "waiting")

    listed = (await driver.slash(student, "waitlist list")).last
    assert listed.ephemeral and "any offering with **Coach Carla**" in listed.content

    again = await driver.slash(student, "waitlist join", coach="Coach Carla", days=7)
    assert "already" in again.ephemeral_text
    assert len(await entries(world["bot"])) == 1

    left = (await driver.slash(student, "waitlist leave")).last
    assert left.ephemeral and "left 1 waitlist" in left.content
    assert [e.status for e in await entries(world["bot"])] == ["left"]
    assert "not on any waitlist" in (await driver.slash(student, "waitlist list")).last.content
    assert "not on any waitlist" in (await driver.slash(student, "waitlist leave")
                                     ).ephemeral_text


async def test_join_refuses_unknown_coach_and_own_waitlist(world):
    driver = world["driver"]
    reply = await driver.slash(world["student"], "waitlist join", coach="Nobody at all")
    assert reply.last.ephemeral
    reply = await driver.slash(world["coach"], "waitlist join", coach="Coach Carla")
    assert "with yourself" in reply.ephemeral_text
    assert await entries(world["bot"]) == []


# ---------------------------------------------------------------- offers


async def test_a_cancellation_offers_the_time_to_the_first_waiting_student(world):
    await two_waiting_and_a_cancellation(world)

    [offer] = await offers_to(world["student"])
    assert f"<t:{UNIX}:F>" in offer.content and "Intro call" in offer.content
    ids = [c.custom_id for row in offer.components for c in row.children]
    assert ids == [BOOK_ID.format(entry_id=1, unix=UNIX), PASS_ID.format(entry_id=1, unix=UNIX)]
    assert await offers_to(world["other"]) == []
    first, second = await entries(world["bot"])
    assert (first.status, first.offered_start) == ("offered", TUE_10)
    assert first.offer_expires_at == world["clock"]() + timedelta(minutes=15)
    assert second.status == "waiting"


async def test_pass_hands_the_time_to_the_next_student(world):
    await two_waiting_and_a_cancellation(world)
    [offer] = await offers_to(world["student"])

    done = (await world["driver"].click(world["student"], offer,
                                        PASS_ID.format(entry_id=1, unix=UNIX))).last

    assert "Passed" in done.content
    first, second = await entries(world["bot"])
    assert (first.status, second.status) == ("passed", "offered")
    [handed] = await offers_to(world["other"])
    assert BOOK_ID.format(entry_id=2, unix=UNIX) in [
        c.custom_id for row in handed.components for c in row.children]


async def test_timeout_hands_the_time_to_the_next_student(world):
    bot = world["bot"]
    await two_waiting_and_a_cancellation(world)
    cog = bot.get_cog("Waitlist")

    world["clock"].advance(minutes=14)
    assert await cog.run_once() == 0
    world["clock"].advance(minutes=1)
    assert await cog.run_once() == 1

    first, second = await entries(bot)
    assert (first.status, second.status) == ("expired", "offered")
    assert len(await offers_to(world["other"])) == 1
    [offer] = await offers_to(world["student"])
    late = await world["driver"].click(world["student"], offer,
                                       BOOK_ID.format(entry_id=1, unix=UNIX))
    assert "no longer open" in late.ephemeral_text


async def test_book_books_the_offered_time(world):
    bot = world["bot"]
    await two_waiting_and_a_cancellation(world)
    [offer] = await offers_to(world["student"])

    done = (await world["driver"].click(world["student"], offer,
                                        BOOK_ID.format(entry_id=1, unix=UNIX))).last

    assert "Booked" in done.content
    booking = (await bookings(bot))[-1]
    assert (booking.student_id, booking.start_at, booking.status) == (
        world["student"].id, TUE_10, "confirmed")
    assert [e.status for e in await entries(bot)] == ["booked", "waiting"]


async def test_only_the_offered_student_may_book(world):
    await two_waiting_and_a_cancellation(world)
    [offer] = await offers_to(world["student"])
    from tests.harness.errors import ComponentNotFoundError

    with pytest.raises(ComponentNotFoundError):  # a DM: nobody else even sees it
        await world["driver"].click(world["other"], offer, BOOK_ID.format(entry_id=1, unix=UNIX))


async def test_a_taken_time_keeps_the_student_waiting(world):
    bot = world["bot"]
    await two_waiting_and_a_cancellation(world)
    [offer] = await offers_to(world["student"])
    await add_booking(bot, world["offering"], 515151, TUE_10)  # /book got there first

    done = (await world["driver"].click(world["student"], offer,
                                        BOOK_ID.format(entry_id=1, unix=UNIX))).last

    assert "someone booked that time" in done.content
    assert [e.status for e in await entries(bot)] == ["waiting", "waiting"]


async def test_a_window_too_short_is_skipped(world):
    bot = world["bot"]
    booked = await booked_by_someone(world)
    await world["driver"].slash(world["student"], "waitlist join", coach="Coach Carla", days=1)
    await coach_cancels(world, booked.id)
    assert await offers_to(world["student"]) == []
    assert [e.status for e in await entries(bot)] == ["waiting"]


# ---------------------------------------------------------------- paid offering, abandoned hold


@pytest.fixture
async def paid(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe, clock):
    import discord.ext.test as dpytest

    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    student, other, coach_member = dpytest.get_config().members
    await setup_server(bot, bot.guilds[0])
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    offering = await seed_offering(bot, coach, title="Mock interview", price_minor=2500,
                                   currency="USD")
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "other": other,
           "offering": offering, "fake": fake_stripe, "clock": clock}
    await bot.payments.drain()


async def test_an_abandoned_hold_is_offered_and_book_opens_checkout(paid):
    from tests.cogs.test_abandon_hold import pay_now

    bot, driver, student, other = paid["bot"], paid["driver"], paid["student"], paid["other"]
    await driver.slash(other, "waitlist join", coach="Coach Carla")
    message = await pay_now(driver, student)
    [held] = await bookings(bot)
    await driver.click(student, message, ABANDON_ID.format(booking_id=held.id))

    [offer] = await offers_to(other)
    done = (await driver.click(other, offer, BOOK_ID.format(entry_id=1, unix=UNIX))).last

    second = (await bookings(bot))[-1]
    assert (second.student_id, second.status) == (other.id, "pending_payment")
    links = [c for row in done.components for c in row["components"] if c.get("url")]
    assert links[0]["url"] == paid["fake"].session_for_booking(second.id)["url"]
    assert [e.status for e in await entries(bot)] == ["booked"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=120))
@example(text="¹")  # a digit for str.isdigit() that int() refuses
async def test_any_coach_or_offering_text_gets_a_reply_and_writes_nothing_bad(world, text):
    reply = (await world["driver"].slash(world["student"], "waitlist join", coach=text or "x",
                                         offering=text or None)).last
    assert reply.ephemeral
    assert reply.allowed_mentions == {"parse": []}
    for entry in await entries(world["bot"]):
        assert entry.student_id == world["student"].id and entry.status == "waiting"


async def test_a_reschedule_offers_the_old_time_to_the_waitlist(world):
    from bot.rescheduling import CONFIRM_ID as MOVE_ID
    from bot.rescheduling import DAY_ID, SLOT_ID
    from tests.cogs.booking_seed import add_booking
    from tests.cogs.test_book import option

    driver, other = world["driver"], world["other"]
    mine = await add_booking(world["bot"], world["offering"], other.id, TUE_10)
    await driver.slash(world["student"], "waitlist join", coach="Coach Carla")

    shown = (await driver.slash(other, "reschedule", booking=mine.id)).last
    times = (await driver.select(other, shown, DAY_ID, ["2026-11-27"])).last
    summary = (await driver.select(other, times, SLOT_ID,
                                   [option(times, SLOT_ID, "10:00")])).last
    await driver.click(other, summary, MOVE_ID)

    [offer] = await offers_to(world["student"])
    assert f"<t:{UNIX}:F>" in offer.content
    [entry] = await entries(world["bot"])
    assert (entry.status, entry.offered_start) == ("offered", TUE_10)


async def test_new_hours_are_offered_to_the_waitlist(coachbot, driver, guild, members, clock):
    from datetime import UTC, datetime

    await setup_server(coachbot, guild)
    student, _, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla", weekdays=range(0))
    await seed_offering(coachbot, coach, title="Intro call", price_minor=0)
    await driver.slash(student, "waitlist join", coach="Coach Carla", days=3)
    assert await offers_to(student) == []

    await driver.slash(coach_member, "availability add", weekday=1, start="14", end="16")

    tuesday_14 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    [offer] = await offers_to(student)
    assert f"<t:{int(tuesday_14.timestamp())}:F>" in offer.content
    [entry] = await entries(coachbot)
    assert (entry.status, entry.offered_start) == ("offered", tuesday_14)
