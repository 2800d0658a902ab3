"""`/reschedule` through discord.py's interaction pipeline, against the fake Stripe server: the
payment stays (no new checkout), the reminders and the calendar follow the new time, and the
policy's refusals (limit reached, too close, not confirmed, not the student) come with their
reason; a time taken meanwhile offers the nearest free ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy import select

from bot.rescheduling import ALTERNATIVE_ID, CONFIRM_ID, DAY_ID, KEEP_ID, SLOT_ID
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from scheduling.booking import BookingRequest, book
from scheduling.payments import start_checkout
from scheduling.policy import make_policy
from storage.models import AuditEntry, BookingStatusChange, Payment, Reminder
from tests.cogs.booking_seed import history, seed_coach, seed_offering, setup_server
from tests.fixtures_bot import stripe_settings

THU_10 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 73 h after the clock's Monday 09:00
FRI_10 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
FRI = "2026-11-27"
CHECKOUTS = ("POST", "/v1/checkout/sessions")
POLICY = make_policy([(48, 100), (24, 50)]).to_dict()  # 1 reschedule, until 24 h before


@pytest.fixture
async def world(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe, clock):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, other, coach_member = dpytest.get_config().members
    server = await setup_server(bot, guild)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    paid = await seed_offering(bot, coach, price_minor=2000, currency="USD", policy=POLICY,
                               title="Mock interview")
    free = await seed_offering(bot, coach, title="Intro call", price_minor=0, policy=POLICY)
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "other": other,
           "coach": coach_member, "server": server, "paid": paid, "free": free,
           "fake": fake_stripe, "clock": clock}
    await bot.payments.drain()


async def paid_booking(w, start=THU_10) -> int:
    bot, clock = w["bot"], w["clock"]
    booking = await book(bot.services.uow, BookingRequest(w["paid"].id, w["student"].id, start),
                         now=clock(), hold=timedelta(minutes=32))
    started = await start_checkout(bot.services.uow, bot.payments.gateway, booking.id,
                                   now=clock(), public_url="https://coachbot.example")
    event = w["fake"].complete_checkout(started.session_id)
    await bot.payments.handle_event(event_from_dict(event))
    await bot.payments.drain()
    return booking.id


async def free_booking(w, start=THU_10, student=None) -> int:
    booking = await book(w["bot"].services.uow,
                         BookingRequest(w["free"].id, (student or w["student"]).id, start),
                         now=w["clock"]())
    return booking.id


def move_clock_to(clock, when: datetime) -> None:
    clock.advance(seconds=(when - clock()).total_seconds())


def option(response, custom_id, label):
    found = [o for o in response.component(custom_id)["options"] if o["label"] == label]
    assert found, [o["label"] for o in response.component(custom_id)["options"]]
    return found[0]["value"]


async def to_summary(w, booking_id, *, day=FRI, time="10:00", member=None):
    driver, member = w["driver"], member or w["student"]
    reply = (await driver.slash(member, "reschedule", booking=booking_id)).last
    reply = (await driver.select(member, reply, DAY_ID, [day])).last
    return (await driver.select(member, reply, SLOT_ID, [option(reply, SLOT_ID, time)])).last


async def reschedule(w, booking_id, **where):
    summary = await to_summary(w, booking_id, **where)
    return (await w["driver"].click(w["student"], summary, CONFIRM_ID)).last


async def booking_row(bot, booking_id):
    async with bot.services.uow() as uow:
        return await uow.bookings.get(booking_id)


async def test_reschedule_keeps_the_payment_and_moves_the_reminders(world):
    bot, fake = world["bot"], world["fake"]
    booking_id = await paid_booking(world)
    checkouts = len(fake.calls(*CHECKOUTS))
    async with bot.services.uow() as uow:
        paid_before = [(p.status, p.amount_minor, p.payment_intent_id) for p in
                       await uow.session.scalars(select(Payment))]
        reminders = list(await uow.session.scalars(select(Reminder).where(
            Reminder.booking_id == booking_id)))
    assert reminders and all(r.due_at == THU_10 - timedelta(minutes=r.offset_minutes)
                             for r in reminders)

    summary = await to_summary(world, booking_id)
    assert summary.embeds[0].fields[2].value == "Stays as it is: nothing new to pay."
    done = (await world["driver"].click(world["student"], summary, CONFIRM_ID)).last

    assert "moved from" in done.content and f"<t:{int(FRI_10.timestamp())}:F>" in done.content
    assert len(fake.calls(*CHECKOUTS)) == checkouts  # no second charge
    booking = await booking_row(bot, booking_id)
    assert (booking.start_at, booking.end_at) == (FRI_10, FRI_10 + timedelta(hours=1))
    assert booking.status == "confirmed" and booking.reschedule_count == 1
    async with bot.services.uow() as uow:
        assert [(p.status, p.amount_minor, p.payment_intent_id) for p in
                await uow.session.scalars(select(Payment))] == paid_before
        moved = list(await uow.session.scalars(select(Reminder).where(
            Reminder.booking_id == booking_id, Reminder.status == "pending")))
        [change] = list(await uow.session.scalars(select(BookingStatusChange).where(
            BookingStatusChange.reason.like("rescheduled%"))))
        [entry] = list(await uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "booking.rescheduled")))
    assert moved and all(r.due_at == FRI_10 - timedelta(minutes=r.offset_minutes)
                         for r in moved)
    assert change.reason == f"rescheduled from {THU_10.isoformat()}"
    assert change.actor_id == world["student"].id
    assert entry.before["start_at"] == THU_10.isoformat()
    assert entry.after["start_at"] == FRI_10.isoformat() and entry.after["reschedule_count"] == 1
    [post] = [m for m in await history(world["server"].log_channel)
              if m.embeds and m.embeds[0].title == "Session rescheduled"]
    assert post.embeds[0].fields[3].value == f"<t:{int(FRI_10.timestamp())}:F>"


async def test_both_dms_carry_the_calendar_update_with_the_same_uid_and_sequence_1(world):
    from icalendar import Calendar

    booking_id = await free_booking(world)
    await reschedule(world, booking_id)

    for member in (world["student"], world["coach"]):
        [message] = [m for m in await history(member.dm_channel)
                     if "rescheduled" in m.content or "now starts" in m.content]
        assert f"<t:{int(FRI_10.timestamp())}:F>" in message.content
        calendar = Calendar.from_ical(await message.attachments[0].read())
        event = calendar.walk("VEVENT")[0]
        assert str(event["UID"]) == f"booking-{booking_id}@coachbot"
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == FRI_10


async def test_the_limit_reached_is_refused_with_the_reason(world):
    booking_id = await free_booking(world)
    await reschedule(world, booking_id)

    refused = (await world["driver"].slash(world["student"], "reschedule",
                                           booking=booking_id)).last

    assert refused.ephemeral
    assert "already rescheduled 1x" in refused.content and "allows it 1 time" in refused.content
    assert (await booking_row(world["bot"], booking_id)).start_at == FRI_10


async def test_too_close_to_the_start_is_refused_with_the_reason(world):
    booking_id = await free_booking(world)
    move_clock_to(world["clock"], THU_10 - timedelta(hours=23, minutes=59))

    refused = (await world["driver"].slash(world["student"], "reschedule",
                                           booking=booking_id)).last

    assert refused.ephemeral and "too close to reschedule" in refused.content
    assert "until 24 h before the start" in refused.content
    booking = await booking_row(world["bot"], booking_id)
    assert (booking.start_at, booking.reschedule_count) == (THU_10, 0)


async def test_too_close_at_confirmation_is_refused_even_if_the_flow_was_open(world):
    booking_id = await free_booking(world)
    move_clock_to(world["clock"], THU_10 - timedelta(hours=24, minutes=5))
    summary = await to_summary(world, booking_id)
    world["clock"].advance(minutes=10)

    refused = (await world["driver"].click(world["student"], summary, CONFIRM_ID)).last

    assert refused.ephemeral and "too close to reschedule" in refused.content
    assert (await booking_row(world["bot"], booking_id)).start_at == THU_10


async def test_the_new_slot_taken_meanwhile_offers_the_nearest_free_times(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    booking_id = await free_booking(world)
    summary = await to_summary(world, booking_id)
    await free_booking(world, FRI_10, student=world["other"])  # someone takes it meanwhile

    taken = (await driver.click(student, summary, CONFIRM_ID)).last

    assert "no longer free" in taken.content
    labels = [o["label"] for o in taken.component(ALTERNATIVE_ID)["options"]]
    assert "Fri 27 Nov 10:00" not in labels and "Fri 27 Nov 11:00" in labels
    assert (await booking_row(bot, booking_id)).start_at == THU_10

    picked = (await driver.select(student, taken, ALTERNATIVE_ID,
                                  [option(taken, ALTERNATIVE_ID, "Fri 27 Nov 11:00")])).last
    done = (await driver.click(student, picked, CONFIRM_ID)).last
    assert "moved from" in done.content
    assert (await booking_row(bot, booking_id)).start_at == FRI_10 + timedelta(hours=1)


async def test_the_booking_does_not_block_its_own_new_time(world):
    """A 2-hour booking moved by one hour overlaps its old time: it must still be free."""
    bot = world["bot"]
    coach = await seed_coach(bot, world["other"], name="Long Coach")
    long = await seed_offering(bot, coach, title="Deep dive", price_minor=0, policy=POLICY,
                               duration_minutes=120, interval_minutes=60)
    booking = await book(bot.services.uow, BookingRequest(long.id, world["student"].id, THU_10),
                         now=world["clock"]())

    done = await reschedule(world, booking.id, day="2026-11-26", time="11:00")

    assert "moved from" in done.content
    moved = await booking_row(bot, booking.id)
    assert (moved.start_at, moved.end_at) == (THU_10 + timedelta(hours=1),
                                              THU_10 + timedelta(hours=3))


async def test_coach_and_outsider_are_refused(world):
    driver = world["driver"]
    booking_id = await free_booking(world)

    coach = (await driver.slash(world["coach"], "reschedule", booking=booking_id)).last
    outsider = (await driver.slash(world["other"], "reschedule", booking=booking_id)).last

    assert coach.ephemeral and "Only the student can reschedule" in coach.content
    assert "/cancel" in coach.content
    assert outsider.ephemeral and "Only the student who booked" in outsider.content


async def test_an_unconfirmed_booking_is_refused(world):
    bot = world["bot"]
    booking = await book(bot.services.uow, BookingRequest(world["paid"].id, world["student"].id,
                                                          THU_10),
                         now=world["clock"](), hold=timedelta(minutes=30))

    held = (await world["driver"].slash(world["student"], "reschedule",
                                        booking=booking.id)).last
    assert held.ephemeral and "not paid yet" in held.content

    async with bot.services.uow() as uow:
        (await uow.bookings.get(booking.id)).status = "cancelled"
        await uow.commit()
    gone = (await world["driver"].slash(world["student"], "reschedule",
                                        booking=booking.id)).last
    assert "not confirmed" in gone.content


async def test_keep_it_changes_nothing(world):
    booking_id = await free_booking(world)
    summary = await to_summary(world, booking_id)

    kept = (await world["driver"].click(world["student"], summary, KEEP_ID)).last

    assert "Nothing was moved" in kept.content
    booking = await booking_row(world["bot"], booking_id)
    assert (booking.start_at, booking.reschedule_count) == (THU_10, 0)


async def test_autocomplete_lists_only_the_students_upcoming_bookings(world):
    booking_id = await free_booking(world)
    driver = world["driver"]
    mine = await driver.autocomplete(world["student"], "reschedule", focused="booking", value="")
    assert [c.value for c in mine] == [booking_id] and "Intro call" in mine[0].name
    assert await driver.autocomplete(world["coach"], "reschedule", focused="booking",
                                     value="") == []


async def test_the_card_reschedule_button_opens_the_same_flow(world):
    from bot.rescheduling import RescheduleButton
    from bot.session_card import card_view

    student = world["student"]
    booking_id = await free_booking(world)
    ids = [c.custom_id for c in card_view(booking_id, None).children]
    assert f"session:reschedule:{booking_id}" in ids
    assert f"session:reschedule:{booking_id}" not in [
        c.custom_id for c in card_view(booking_id, None, before_start=False).children]
    view = discord.ui.View(timeout=None)
    view.add_item(RescheduleButton(booking_id))
    card = await student.guild.text_channels[0].send("Your session", view=view)

    shown = (await world["driver"].click(student, card, f"session:reschedule:{booking_id}")).last
    assert shown.ephemeral and shown.component(DAY_ID)
    refused = (await world["driver"].click(world["other"], card,
                                           f"session:reschedule:{booking_id}")).last
    assert "Only the student who booked" in refused.content
