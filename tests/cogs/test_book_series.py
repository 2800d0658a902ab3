"""Weekly series through `/book` (discord.py's interaction pipeline): "repeat weekly for N
weeks" books every occurrence in one transaction or shows which weeks are taken with the
option to book the free ones; a paid series is one Checkout Session (the real `stripe`
library against the fake server) with a payment row per occurrence; each occurrence has its
own reminders and is cancelled or rescheduled alone; "cancel the rest" cancels the later ones.
"""

from __future__ import annotations

from datetime import timedelta

import discord.ext.test as dpytest
import pytest
from sqlalchemy import select

from bot.lifecycle import runner_of
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from scheduling.policy import make_policy
from scheduling.series import cancel_rest
from storage.models import Payment, Reminder
from tests.cogs.booking_seed import (
    TUE,
    add_booking,
    at,
    bookings,
    history,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.cogs.test_book import option
from tests.fixtures_bot import stripe_settings

TUE_10 = at(TUE, 10)
WEEK = timedelta(days=7)
POLICY = make_policy([(48, 100), (24, 50)]).to_dict()


@pytest.fixture
async def world(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe, clock):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, other, coach_member = dpytest.get_config().members
    server = await setup_server(bot, guild)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    free = await seed_offering(bot, coach, title="Weekly check-in", price_minor=0,
                               policy=POLICY)
    paid = await seed_offering(bot, coach, title="Mock interview", price_minor=2500,
                               currency="USD", policy=POLICY)
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "other": other,
           "coach": coach_member, "server": server, "free": free, "paid": paid,
           "fake": fake_stripe, "clock": clock}
    await bot.payments.drain()


async def to_summary(w, offering, *, weeks: int, member=None):
    driver, student = w["driver"], member or w["student"]
    reply = await driver.slash(student, "book", offering=str(offering.id))
    reply = await driver.select(student, reply.last, "book:day", ["2026-11-24"])
    reply = await driver.select(student, reply.last, "book:slot",
                                [option(reply.last, "book:slot", "10:00")])
    if weeks > 1:
        reply = await driver.select(student, reply.last, "book:repeat", [str(weeks)])
    return reply.last


def weekly(count: int, first=TUE_10):
    return [first + k * WEEK for k in range(count)]


async def reminders_of(bot, booking_id):
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(
            select(Reminder).where(Reminder.booking_id == booking_id)))


async def payments(bot):
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(Payment).order_by(Payment.id)))


async def test_a_free_six_week_series_is_booked_all_together(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    summary = await to_summary(world, world["free"], weeks=6)
    assert "Weekly for 6 weeks" in summary.content
    for start in weekly(6):
        assert f"<t:{int(start.timestamp())}:F>" in summary.content

    done = await driver.click(student, summary, "book:confirm")

    rows = await bookings(bot)
    assert [b.start_at for b in rows] == weekly(6)
    assert {b.status for b in rows} == {"confirmed"}
    assert len({b.series_id for b in rows}) == 1 and rows[0].series_id is not None
    assert "6 sessions" in done.last.content
    for booking in rows:  # each occurrence has its own reminders and channel
        assert len(await reminders_of(bot, booking.id)) >= 2
        assert booking.text_channel_id is not None
        assert runner_of(bot).wakeups.due_of(booking.id) == booking.start_at - timedelta(hours=24)
    assert world["server"].role in bot.guilds[0].get_member(student.id).roles


async def test_a_taken_week_books_nothing_then_the_free_weeks_on_request(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    taken = TUE_10 + 2 * WEEK
    await add_booking(bot, world["free"], world["other"].id, taken)
    summary = await to_summary(world, world["free"], weeks=6)

    shown = await driver.click(student, summary, "book:confirm")

    assert len(await bookings(bot)) == 1, "nothing of the series was booked"
    assert f"<t:{int(taken.timestamp())}:D>" in shown.last.content
    assert "Still free (5 of 6 weeks)" in shown.last.content
    assert "book:free-weeks" in shown.last.custom_ids

    done = await driver.click(student, shown.last, "book:free-weeks")

    mine = [b for b in await bookings(bot) if b.student_id == student.id]
    assert [b.start_at for b in mine] == [s for s in weekly(6) if s != taken]
    assert {b.status for b in mine} == {"confirmed"}
    assert len({b.series_id for b in mine}) == 1
    assert "5 sessions" in done.last.content


async def test_a_paid_series_is_one_checkout_with_a_payment_row_per_week(world):
    bot, driver, student, fake = world["bot"], world["driver"], world["student"], world["fake"]
    summary = await to_summary(world, world["paid"], weeks=4)
    assert "4 × $25.00 = **$100.00**" in summary.content

    held = await driver.click(student, summary, "book:pay")

    rows = await bookings(bot)
    assert [b.status for b in rows] == ["pending_payment"] * 4
    [request] = fake.calls("POST", "/v1/checkout/sessions")
    item = request.params["line_items"][0]
    assert (item["quantity"], item["price_data"]["unit_amount"]) == ("4", "2500")
    assert request.params["metadata"]["series_id"] == rows[0].series_id
    [button] = [c for c in held.last.components[0]["components"] if c.get("url")]
    assert button["label"] == "Pay $100.00"
    rows_paid = await payments(bot)
    assert [p.amount_minor for p in rows_paid] == [2500] * 4
    assert [p.booking_id for p in rows_paid] == [b.id for b in rows]

    event = fake.complete_checkout(fake.session_for_booking(rows[0].id)["id"])
    await bot.payments.handle_event(event_from_dict(event))
    await bot.payments.drain()

    assert {b.status for b in await bookings(bot)} == {"confirmed"}
    settled = await payments(bot)
    assert {p.status for p in settled} == {"paid"}
    assert len({p.payment_intent_id for p in settled}) == 1
    for booking in await bookings(bot):
        assert booking.text_channel_id is not None


async def test_one_occurrence_is_refunded_alone_and_cancel_the_rest_refunds_each(world):
    bot, driver, student, fake = world["bot"], world["driver"], world["student"], world["fake"]
    await driver.click(student, await to_summary(world, world["paid"], weeks=4), "book:pay")
    rows = await bookings(bot)
    event = fake.complete_checkout(fake.session_for_booking(rows[0].id)["id"])
    await bot.payments.handle_event(event_from_dict(event))
    await bot.payments.drain()

    from tests.cogs.test_cancel import cancel  # the /cancel flow, through the driver
    await cancel(world, student, rows[1].id)
    await bot.payments.drain()
    [refund] = fake.calls("POST", "/v1/refunds")
    assert refund.params["amount"] == "2500"  # that week's share, in full (> 48 h notice)
    statuses = [b.status for b in await bookings(bot)]
    assert statuses == ["confirmed", "cancelled", "confirmed", "confirmed"]

    done, skipped = await cancel_rest(bot.services.uow, rows[2].id, student.id,
                                      now=world["clock"](), reason="moving away")
    assert [d.quote.booking_id for d in done] == [rows[2].id, rows[3].id]
    assert skipped == []
    assert [b.status for b in await bookings(bot)] == ["confirmed", "cancelled",
                                                       "cancelled", "cancelled"]


async def test_an_occurrence_is_rescheduled_alone(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    await driver.click(student, await to_summary(world, world["free"], weeks=3), "book:confirm")
    rows = await bookings(bot)
    from tests.cogs.test_reschedule import reschedule  # the /reschedule flow

    await reschedule(world, rows[1].id, day="2026-12-02", time="14:00")

    moved = await bookings(bot)
    assert moved[0].start_at == rows[0].start_at and moved[2].start_at == rows[2].start_at
    assert moved[1].start_at == at(TUE, 14) + WEEK + timedelta(days=1)
    assert moved[1].series_id == rows[0].series_id


async def test_a_held_series_is_released_together_when_the_hold_runs_out(world):
    bot, driver, student, clock = world["bot"], world["driver"], world["student"], world["clock"]
    await driver.click(student, await to_summary(world, world["paid"], weeks=3), "book:pay")
    clock.advance(seconds=3600)

    await bot.payments.run_maintenance()
    second = await bot.payments.run_maintenance()  # nothing left to do: no endless retries

    assert {b.status for b in await bookings(bot)} == {"expired"}
    assert {p.status for p in await payments(bot)} == {"expired"}
    assert second.actions == ()


async def test_cancel_on_the_pay_message_gives_every_held_week_back(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    held = await driver.click(student, await to_summary(world, world["paid"], weeks=3),
                              "book:pay")
    [lead, *_] = await bookings(bot)

    await driver.click(student, held.last, f"hold:abandon:{lead.id}")

    assert {b.status for b in await bookings(bot)} == {"cancelled"}
    assert {p.status for p in await payments(bot)} == {"expired"}


async def test_cancel_the_rest_of_the_series_from_the_cancel_quote(world):
    from bot.cancellation import REASON_ID
    from bot.series_cancel import REST_ID

    bot, driver, student = world["bot"], world["driver"], world["student"]
    await driver.click(student, await to_summary(world, world["free"], weeks=4), "book:confirm")
    rows = await bookings(bot)
    last = await driver.slash(student, "cancel", booking=rows[3].id)
    assert REST_ID not in last.last.custom_ids  # the last week has nothing after it

    shown = await driver.slash(student, "cancel", booking=rows[1].id)
    [rest] = [c for row in shown.last.components for c in row["components"]
              if c.get("custom_id") == REST_ID]
    assert rest["label"] == "Cancel this and the 2 later weeks"
    opened = await driver.click(student, shown.last, REST_ID)
    done = await driver.submit_modal(student, opened, {REASON_ID: "moving away"})

    assert [b.status for b in await bookings(bot)] == ["confirmed", "cancelled", "cancelled",
                                                       "cancelled"]
    assert done.last.ephemeral
    assert "Cancelled 3 sessions of the series" in done.last.content
    coach_dms = await history(world["coach"].dm_channel)
    assert sum("cancelled **Weekly check-in**" in m.content for m in coach_dms) == 3


async def test_a_week_taken_after_its_hold_ran_out_is_refunded_alone(world):
    bot, driver, student, fake = world["bot"], world["driver"], world["student"], world["fake"]
    await driver.click(student, await to_summary(world, world["paid"], weeks=3), "book:pay")
    rows = await bookings(bot)
    async with bot.services.uow() as uow:  # week 2's hold ran out and someone took the time
        (await uow.bookings.get(rows[1].id)).status = "expired"
        await uow.commit()
    await add_booking(bot, world["paid"], world["other"].id, rows[1].start_at)

    event = fake.complete_checkout(fake.session_for_booking(rows[0].id)["id"])
    await bot.payments.handle_event(event_from_dict(event))
    await bot.payments.drain()

    statuses = {b.id: b.status for b in await bookings(bot)}
    assert [statuses[b.id] for b in rows] == ["confirmed", "expired", "confirmed"]
    [refund] = fake.calls("POST", "/v1/refunds")
    assert refund.params["amount"] == "2500"
    rows_paid = {p.booking_id: p for p in await payments(bot)}
    assert refund.params["payment_intent"] == rows_paid[rows[1].id].payment_intent_id
