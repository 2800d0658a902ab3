"""`/cancel` through discord.py's interaction pipeline, against the fake Stripe server: what the
policy gives at each tier boundary (asserted on the refund request Stripe receives), the coach's
full refund, a free session, the no-cancel window and a cancellation racing the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy import select

from bot.cancellation import CONFIRM_ID, KEEP_ID, REASON_ID
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from scheduling.booking import BookingRequest, book
from scheduling.payments import start_checkout
from scheduling.policy import make_policy
from storage.models import AuditEntry, BookingStatusChange
from tests.cogs.booking_seed import bookings, history, seed_coach, seed_offering, setup_server
from tests.fixtures_bot import stripe_settings

THU_10 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 73 h after the clock's Monday 09:00
REFUNDS = ("POST", "/v1/refunds")
POLICY = make_policy([(48, 100), (24, 50)]).to_dict()


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


async def free_booking(w, start=THU_10) -> int:
    booking = await book(w["bot"].services.uow,
                         BookingRequest(w["free"].id, w["student"].id, start),
                         now=w["clock"]())
    return booking.id


def move_clock_to(clock, when: datetime) -> None:
    clock.advance(seconds=(when - clock()).total_seconds())


async def cancel(w, member, booking_id, reason="Something came up"):
    driver = w["driver"]
    shown = await driver.slash(member, "cancel", booking=booking_id)
    opened = await driver.click(member, shown.last, CONFIRM_ID)
    done = await driver.submit_modal(member, opened, {REASON_ID: reason})
    return shown.last, done.last


async def status_of(bot, booking_id):
    async with bot.services.uow() as uow:
        return (await uow.bookings.get(booking_id)).status


@pytest.mark.parametrize(("notice", "percent"), [
    (timedelta(hours=48), 100),
    (timedelta(hours=47, minutes=59), 50),
    (timedelta(hours=24), 50),
])
async def test_student_refund_follows_the_tier_at_each_boundary(world, notice, percent):
    booking_id = await paid_booking(world)
    move_clock_to(world["clock"], THU_10 - notice)

    shown, done = await cancel(world, world["student"], booking_id)

    amount = 2000 * percent // 100
    assert f"${amount / 100:.2f}" in shown.embeds[0].fields[1].value
    request = world["fake"].last(*REFUNDS)
    assert request.params["amount"] == str(amount)
    assert done.ephemeral and "is cancelled" in done.content
    assert await status_of(world["bot"], booking_id) == "cancelled"


async def test_student_inside_the_no_cancel_window_is_told_the_policy(world):
    booking_id = await paid_booking(world)
    move_clock_to(world["clock"], THU_10 - timedelta(hours=23, minutes=59))

    reply = (await world["driver"].slash(world["student"], "cancel", booking=booking_id)).last

    assert reply.ephemeral
    assert "too close to cancel" in reply.content
    assert "24 h or more before: 50 % refund" in reply.content
    assert "coach can still cancel" in reply.content
    assert await status_of(world["bot"], booking_id) == "confirmed"
    assert world["fake"].calls(*REFUNDS) == []


async def test_coach_cancels_inside_the_window_with_a_full_refund(world):
    bot = world["bot"]
    booking_id = await paid_booking(world)
    move_clock_to(world["clock"], THU_10 - timedelta(hours=2))

    shown, done = await cancel(world, world["coach"], booking_id, "I am ill @everyone")

    assert "full refund" in shown.embeds[0].fields[1].value
    assert world["fake"].last(*REFUNDS).params["amount"] == "2000"
    assert "is cancelled" in done.content
    assert await status_of(bot, booking_id) == "cancelled"
    dms = await history(world["student"].dm_channel)
    told = [m for m in dms if "Your coach cancelled" in m.content]
    assert told and "/book" in told[-1].content and "I am ill @everyone" in told[-1].content
    async with bot.services.uow() as uow:
        [change] = list(await uow.session.scalars(select(BookingStatusChange).where(
            BookingStatusChange.to_status == "cancelled")))
        [entry] = list(await uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "booking.cancelled")))
    assert (change.actor_id, change.from_status) == (world["coach"].id, "confirmed")
    assert "I am ill @everyone" in change.reason
    assert entry.after["refund_minor"] == 2000 and entry.after["by"] == "coach"
    [post] = [m for m in await history(world["server"].log_channel)
              if m.embeds and m.embeds[0].title == "Session cancelled"]
    assert post.embeds[0].fields[2].value == "I am ill @everyone"


async def test_free_session_cancel_frees_the_slot_and_tells_the_coach(world):
    bot = world["bot"]
    booking_id = await free_booking(world)

    shown, done = await cancel(world, world["student"], booking_id, "Double-booked")

    assert "Free session" in shown.embeds[0].fields[1].value
    assert "nothing to refund" in done.content
    assert world["fake"].calls(*REFUNDS) == []
    assert await status_of(bot, booking_id) == "cancelled"
    dms = await history(world["coach"].dm_channel)
    assert any("cancelled **Intro call**" in m.content and "Double-booked" in m.content
               for m in dms)
    # The time is free again: someone else can book it.
    again = await book(bot.services.uow, BookingRequest(world["free"].id, world["other"].id,
                                                        THU_10), now=world["clock"]())
    assert again.status == "confirmed"


async def test_both_participants_get_a_calendar_cancellation(world):
    from icalendar import Calendar

    booking_id = await free_booking(world)
    await cancel(world, world["student"], booking_id, "Double-booked")

    for member in (world["student"], world["coach"]):
        [message] = [m for m in await history(member.dm_channel) if m.attachments]
        calendar = Calendar.from_ical(await message.attachments[0].read())
        assert calendar["METHOD"] == "CANCEL"
        event = calendar.walk("VEVENT")[0]
        assert str(event["UID"]) == f"booking-{booking_id}@coachbot"
        assert str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == 1


async def test_cancel_racing_the_start_is_refused_at_confirmation(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    booking_id = await paid_booking(world)
    move_clock_to(world["clock"], THU_10 - timedelta(hours=49))
    shown = await driver.slash(student, "cancel", booking=booking_id)
    opened = await driver.click(student, shown.last, CONFIRM_ID)
    async with bot.services.uow() as uow:  # the session starts meanwhile
        (await uow.bookings.get(booking_id)).status = "in_progress"
        await uow.commit()

    done = await driver.submit_modal(student, opened, {REASON_ID: "late"})

    assert done.last.ephemeral and "already started" in done.last.content
    assert await status_of(bot, booking_id) == "in_progress"
    assert world["fake"].calls(*REFUNDS) == []


async def test_outsider_cannot_cancel_and_keep_it_changes_nothing(world):
    driver = world["driver"]
    booking_id = await free_booking(world)

    refused = (await driver.slash(world["other"], "cancel", booking=booking_id)).last
    assert refused.ephemeral and "Only the student and the coach" in refused.content

    shown = await driver.slash(world["student"], "cancel", booking=booking_id)
    kept = await driver.click(world["student"], shown.last, KEEP_ID)
    assert "Nothing was cancelled" in kept.last.content
    assert [b.status for b in await bookings(world["bot"])] == ["confirmed"]


async def test_blank_reason_is_refused(world):
    driver, student = world["driver"], world["student"]
    booking_id = await free_booking(world)
    shown = await driver.slash(student, "cancel", booking=booking_id)
    opened = await driver.click(student, shown.last, CONFIRM_ID)

    done = await driver.submit_modal(student, opened, {REASON_ID: "   "})

    assert done.last.ephemeral and "Give a reason" in done.last.content
    assert await status_of(world["bot"], booking_id) == "confirmed"


async def test_autocomplete_lists_the_callers_upcoming_bookings(world):
    booking_id = await free_booking(world)
    choices = (await world["driver"].autocomplete(world["student"], "cancel",
                                                  focused="booking", value=""))
    assert [c.value for c in choices] == [booking_id]
    assert "Intro call" in choices[0].name
    none = (await world["driver"].autocomplete(world["other"], "cancel", focused="booking",
                                               value=""))
    assert none == []


async def test_the_card_cancel_button_opens_the_same_confirmation(world):
    from bot.cancellation import CancelButton

    student = world["student"]
    booking_id = await free_booking(world)
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(booking_id))
    card = await student.guild.text_channels[0].send("Your session", view=view)

    shown = await world["driver"].click(student, card, f"session:cancel:{booking_id}")
    assert shown.last.ephemeral and shown.last.embeds[0].title == "Cancel Intro call?"
    refused = await world["driver"].click(world["other"], card, f"session:cancel:{booking_id}")
    assert "Only the student and the coach" in refused.last.content
