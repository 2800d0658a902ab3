"""`/coaching earnings` (Manage Server): what each coach earned from paid sessions and what the
server owes them, per currency, from payments seeded in the database."""

from __future__ import annotations

from datetime import timedelta

import discord

from storage.models import Payment, Refund
from tests.cogs.booking_seed import TUE, add_booking, at, seed_coach, seed_offering
from tests.harness import grant_permissions


def admin(member):
    grant_permissions(member, discord.Permissions(manage_guild=True), name="Admins")
    return member


async def paid_booking(bot, offering, start, *, amount, fee=0,
                       status="paid", destination=None, refunds=()):
    booking = await add_booking(bot, offering, 4242, start)
    async with bot.services.uow() as uow:
        payment = Payment(booking_id=booking.id, checkout_session_id=f"cs_{booking.id}",
                          amount_minor=amount, currency=offering.currency, status=status,
                          platform_fee_minor=fee, destination_account=destination)
        uow.session.add(payment)
        await uow.session.flush()
        for number, (refund_minor, refund_status) in enumerate(refunds):
            uow.session.add(Refund(payment_id=payment.id, amount_minor=refund_minor,
                                   status=refund_status,
                                   idempotency_key=f"refund:{payment.id}:{number}"))
        await uow.commit()
    return booking


def fields(reply):
    return {field.name: field.value for field in reply.embeds[0].fields}


async def test_earnings_per_coach_and_currency(coachbot, driver, members):
    carla = await seed_coach(coachbot, members[1], name="Coach Carla")
    dan = await seed_coach(coachbot, members[2], name="Coach Dan")
    carla_usd = await seed_offering(coachbot, carla, price_minor=10_000, currency="USD")
    carla_eur = await seed_offering(coachbot, carla, title="Review", price_minor=3_000,
                                    currency="EUR")
    dan_usd = await seed_offering(coachbot, dan, price_minor=5_000, currency="USD")
    hour = timedelta(hours=1)
    # Carla (no payout account): two paid sessions, one half refunded (the fee follows).
    await paid_booking(coachbot, carla_usd, at(TUE, 10), amount=10_000, fee=1_000,
                       status="partially_refunded", refunds=((5_000, "succeeded"),))
    await paid_booking(coachbot, carla_usd, at(TUE, 12), amount=10_000, fee=1_000)
    await paid_booking(coachbot, carla_eur, at(TUE, 14), amount=3_000)
    # Not settled or not (yet) refunded: unpaid holds and failed refunds change nothing.
    await paid_booking(coachbot, carla_usd, at(TUE, 15), amount=10_000, status="pending")
    await paid_booking(coachbot, carla_eur, at(TUE, 16), amount=3_000,
                       refunds=((3_000, "failed"),))
    # Dan has a linked account: Stripe paid him, the server owes nothing.
    await paid_booking(coachbot, dan_usd, at(TUE, 10) + 24 * hour, amount=5_000, fee=500,
                       destination="acct_dan")

    reply = (await driver.slash(admin(members[0]), "coaching earnings")).last

    assert reply.ephemeral
    embed = reply.embeds[0]
    assert embed.title == "Coach earnings"
    assert embed.description.startswith(
        "**The server owes coaches €60.00, $135.00 in total.**")
    assert "`/coach payouts`" in embed.description
    assert fields(reply) == {
        "Coach Carla (USD)": "2 sessions · paid $200.00 · refunded $50.00 · fee $15.00\n"
                             "**Owed: $135.00** · paid out: nothing",
        "Coach Carla (EUR)": "2 sessions · paid €60.00 · refunded nothing · fee nothing\n"
                             "**Owed: €60.00** · paid out: nothing",
        "Coach Dan (USD)": "1 session · paid $50.00 · refunded nothing · fee $5.00\n"
                           "**Owed: nothing** · paid out: $45.00",
    }


async def test_no_paid_sessions_yet(coachbot, driver, members):
    reply = (await driver.slash(admin(members[0]), "coaching earnings")).last
    assert reply.embeds[0].description == "No paid sessions yet, so no coach is owed anything."
    assert fields(reply) == {}


async def test_earnings_need_manage_server(coachbot, driver, members):
    carla = await seed_coach(coachbot, members[1], name="Coach Carla")
    offering = await seed_offering(coachbot, carla, price_minor=10_000, currency="USD")
    await paid_booking(coachbot, offering, at(TUE, 10), amount=10_000)

    reply = (await driver.slash(members[0], "coaching earnings")).last

    assert reply.ephemeral
    assert reply.content == "You need the Manage Server permission to use this."
    assert reply.embeds == []


async def test_coaches_paid_by_stripe_are_owed_nothing(coachbot, driver, members):
    dan = await seed_coach(coachbot, members[2], name="Coach Dan")
    offering = await seed_offering(coachbot, dan, price_minor=5_000, currency="USD")
    await paid_booking(coachbot, offering, at(TUE, 10), amount=5_000, fee=500,
                       destination="acct_dan", status="refunded",
                       refunds=((5_000, "succeeded"),))

    reply = (await driver.slash(admin(members[0]), "coaching earnings")).last

    assert reply.embeds[0].description.startswith("**The server owes coaches nothing.**")
    assert fields(reply) == {
        "Coach Dan (USD)": "1 session · paid $50.00 · refunded $50.00 · fee nothing\n"
                           "**Owed: nothing** · paid out: nothing"}
