"""Abandoning a held booking: **Cancel** on the Pay now message (driver, fake Stripe server).
It frees the time at once, expires the Checkout Session, and a payment that still arrives is
refunded in full (the student gave the time back), whether the time was taken meanwhile or not."""

from __future__ import annotations

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy import select

from bot.waitlist import ABANDON_ID, AbandonHoldButton
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from storage.models import BookingStatusChange, Payment
from tests.cogs.booking_seed import (
    TUE,
    add_booking,
    at,
    bookings,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.cogs.test_book import option
from tests.fixtures_bot import stripe_settings

TUE_10 = at(TUE, 10)
REFUNDS = ("POST", "/v1/refunds")


@pytest.fixture
async def paid(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, other, coach_member = dpytest.get_config().members
    await setup_server(bot, guild)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    offering = await seed_offering(bot, coach, price_minor=2500, currency="USD")
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "other": other,
           "offering": offering, "fake": fake_stripe}
    await bot.payments.drain()


async def pay_now(driver, student):
    reply = await driver.slash(student, "book")
    reply = await driver.select(student, reply.last, "book:day", ["2026-11-24"])
    summary = await driver.select(student, reply.last, "book:slot",
                                  [option(reply.last, "book:slot", "10:00")])
    return (await driver.click(student, summary.last, "book:pay")).last


async def status_history(bot, booking_id):
    async with bot.services.uow() as uow:
        rows = await uow.session.scalars(select(BookingStatusChange).where(
            BookingStatusChange.booking_id == booking_id).order_by(BookingStatusChange.id))
        return [(r.from_status, r.to_status, r.actor_id, r.reason) for r in rows]


async def payment_status(bot, booking_id):
    async with bot.services.uow() as uow:
        return (await uow.session.scalars(select(Payment.status).where(
            Payment.booking_id == booking_id))).one()


async def test_pay_now_message_has_a_cancel_button_for_the_hold(paid):
    message = await pay_now(paid["driver"], paid["student"])
    [held] = await bookings(paid["bot"])
    assert ABANDON_ID.format(booking_id=held.id) in message.custom_ids
    assert message.components[0]["components"][0]["url"]  # the Pay link stays first


async def test_cancel_releases_the_time_and_expires_the_checkout(paid):
    bot, driver, student, fake = paid["bot"], paid["driver"], paid["student"], paid["fake"]
    message = await pay_now(driver, student)
    [held] = await bookings(bot)
    session_id = fake.session_for_booking(held.id)["id"]

    done = (await driver.click(student, message, ABANDON_ID.format(booking_id=held.id))).last

    assert "released" in done.content and "Nothing was charged" in done.content
    assert f"<t:{int(TUE_10.timestamp())}:F>" in done.content
    assert done.components == []
    [booking] = await bookings(bot)
    assert booking.status == "cancelled"
    assert (await status_history(bot, held.id))[-1] == (
        "pending_payment", "cancelled", student.id, "abandoned by the student before paying")
    assert fake.calls("POST", f"/v1/checkout/sessions/{session_id}/expire")
    assert fake.session_for_booking(held.id)["status"] == "expired"
    assert await payment_status(bot, held.id) == "expired"
    # The time is free again: someone else can book it.
    await add_booking(bot, paid["offering"], paid["other"].id, TUE_10)


async def test_only_the_student_may_cancel_the_hold(paid):
    bot, driver, student, fake = paid["bot"], paid["driver"], paid["student"], paid["fake"]
    await pay_now(driver, student)
    [held] = await bookings(bot)

    # The Pay now message is ephemeral; a forged copy of its button in a channel is refused.
    view = discord.ui.View(timeout=None)
    view.add_item(AbandonHoldButton(held.id))
    copy = await bot.guilds[0].text_channels[0].send("copy", view=view)

    reply = await driver.click(paid["other"], copy, ABANDON_ID.format(booking_id=held.id))

    assert "Only the student" in reply.ephemeral_text
    [booking] = await bookings(bot)
    assert booking.status == "pending_payment"
    assert fake.session_for_booking(held.id)["status"] == "open"


async def test_cancel_twice_says_it_was_released_already(paid):
    bot, driver, student = paid["bot"], paid["driver"], paid["student"]
    message = await pay_now(driver, student)
    [held] = await bookings(bot)
    view = discord.ui.View(timeout=None)  # a second copy of the button (e.g. two clients)
    view.add_item(AbandonHoldButton(held.id))
    copy = await bot.guilds[0].text_channels[0].send("copy", view=view)
    await driver.click(student, message, ABANDON_ID.format(booking_id=held.id))

    again = await driver.click(student, copy, ABANDON_ID.format(booking_id=held.id))

    assert "released already" in again.ephemeral_text
    assert len(await status_history(bot, held.id)) == 2  # created, cancelled


@pytest.mark.parametrize("taken_meanwhile", [False, True])
async def test_a_payment_arriving_after_cancel_is_refunded_in_full(paid, taken_meanwhile):
    bot, driver, student, fake = paid["bot"], paid["driver"], paid["student"], paid["fake"]
    message = await pay_now(driver, student)
    [held] = await bookings(bot)
    # The student paid in the browser, then pressed Cancel before the webhook arrived.
    event = fake.complete_checkout(fake.session_for_booking(held.id)["id"])

    done = (await driver.click(student, message, ABANDON_ID.format(booking_id=held.id))).last
    assert "refunded in full" in done.content
    if taken_meanwhile:
        await add_booking(bot, paid["offering"], paid["other"].id, TUE_10)

    await bot.payments.handle_event(event_from_dict(event))
    await bot.payments.drain()

    booking = next(b for b in await bookings(bot) if b.id == held.id)
    assert booking.status == "cancelled"  # never confirmed
    [refund] = fake.calls(*REFUNDS)
    assert refund.params["amount"] == "2500"
