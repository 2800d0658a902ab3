"""The paid `/book` path through the interaction driver: Pay now holds the time and opens a
Stripe Checkout Session (real `stripe` library against the fake server); the signed
`checkout.session.completed` webhook then confirms and provisions the booking."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import discord.ext.test as dpytest
import pytest

from bot.lifecycle import runner_of
from bot.web import WebServer
from payments.stripe_gateway import StripeGateway
from tests.cogs.booking_seed import (
    TUE,
    at,
    bookings,
    history,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.cogs.test_book import option
from tests.fake_stripe import signed_delivery
from tests.fixtures_bot import stripe_settings

TUE_10 = at(TUE, 10)


@pytest.fixture
async def paid(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, _, coach_member = dpytest.get_config().members
    server = await setup_server(bot, guild)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    offering = await seed_offering(bot, coach, price_minor=2500, currency="USD")
    driver = make_driver(bot)
    # The fake Stripe server shares the event loop: its keep-alive connection handlers are not
    # the bot's work and outlive each interaction.
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "server": server,
           "offering": offering, "fake": fake_stripe}
    await bot.payments.drain()


async def to_summary(driver, student):
    reply = await driver.slash(student, "book")
    reply = await driver.select(student, reply.last, "book:day", ["2026-11-24"])
    return await driver.select(student, reply.last, "book:slot",
                               [option(reply.last, "book:slot", "10:00")])


async def test_pay_now_holds_the_time_and_links_to_checkout(paid):
    driver, student, fake = paid["driver"], paid["student"], paid["fake"]
    summary = (await to_summary(driver, student)).last
    assert "book:pay" in summary.custom_ids
    assert "book:confirm" not in summary.custom_ids

    done = await driver.click(student, summary, "book:pay")

    [held] = await bookings(paid["bot"])
    assert (held.status, held.start_at, held.student_id) == ("pending_payment", TUE_10,
                                                             student.id)
    request = fake.last("POST", "/v1/checkout/sessions")
    assert request.params["client_reference_id"] == str(held.id)
    assert request.params["line_items"][0]["price_data"]["unit_amount"] == "2500"
    reply = done.last
    assert reply.ephemeral
    assert f"<t:{int(held.expires_at.timestamp())}:R>" in reply.content
    [button] = reply.components[0]["components"]
    assert button["label"] == "Pay $25.00"
    assert button["url"] == fake.session_for_booking(held.id)["url"]


async def test_the_webhook_after_pay_now_confirms_and_gives_access(paid, fake_stripe):
    bot, driver, student = paid["bot"], paid["driver"], paid["student"]
    await driver.click(student, (await to_summary(driver, student)).last, "book:pay")
    [held] = await bookings(bot)
    event = fake_stripe.complete_checkout(fake_stripe.session_for_booking(held.id)["id"])

    web = WebServer(bot, host="127.0.0.1", port=0)
    await web.start()
    try:
        body, headers = signed_delivery(event, "whsec_coachbot")
        async with aiohttp.ClientSession() as http, http.post(
                f"{web.url}/stripe/webhook", data=body, headers=headers) as response:
            assert response.status == 200
        await bot.payments.drain()
    finally:
        await web.stop()

    [booking] = await bookings(bot)
    assert booking.status == "confirmed"
    assert paid["server"].role in bot.guilds[0].get_member(student.id).roles
    assert booking.text_channel_id is not None
    assert runner_of(bot).wakeups.due_of(booking.id) == TUE_10 - timedelta(hours=24)
    cards = [m for m in await history(student.dm_channel) if m.embeds]
    assert cards, "the student gets the session card by DM"
    fields = {f.name: f.value for f in cards[-1].embeds[0].fields}
    assert fields["Paid"] == "$25.00"  # the receipt


async def test_a_taken_time_at_pay_now_offers_alternatives_and_charges_nothing(paid):
    from tests.cogs.booking_seed import add_booking

    driver, student, fake = paid["driver"], paid["student"], paid["fake"]
    summary = (await to_summary(driver, student)).last
    await add_booking(paid["bot"], paid["offering"], 424242, TUE_10)

    reply = (await driver.click(student, summary, "book:pay")).last

    assert "no longer free" in reply.content
    assert fake.calls("POST", "/v1/checkout/sessions") == []
