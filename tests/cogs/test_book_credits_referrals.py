"""`/book` with package credits and with a referral code (discord.py's interaction pipeline):
"Use a credit" books a paid offering without paying, one credit per session (a weekly series
spends one per week), until none are left; a referral code is stored on the paid booking with
the server's commission; an unknown code and the student's own code are refused before
anything is shown."""

from __future__ import annotations

from datetime import timedelta

import discord.ext.test as dpytest
import pytest
from sqlalchemy import select

from payments.stripe_gateway import StripeGateway
from scheduling.referrals import referral_code
from storage.models import CreditUse, Package, PackagePurchase
from tests.cogs.booking_seed import bookings, seed_coach, seed_offering, setup_server
from tests.cogs.test_book import option
from tests.fixtures_bot import stripe_settings


@pytest.fixture
async def world(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe, clock):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, other, coach_member = dpytest.get_config().members
    await setup_server(bot, guild, referral_commission_percent=10)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    paid = await seed_offering(bot, coach, title="Mock interview", price_minor=2500,
                               currency="USD")
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "other": other, "paid": paid,
           "fake": fake_stripe, "clock": clock}
    await bot.payments.drain()


async def give_credits(w, credits: int, *, valid_days: int = 90) -> int:
    """A paid package purchase of `credits` sessions of the paid offering."""
    offering, now = w["paid"], w["clock"]()
    async with w["bot"].services.uow() as uow:
        package = Package(guild_id=offering.guild_id, offering_id=offering.id, sessions=credits,
                          price_minor=9000, currency="USD", valid_days=valid_days)
        uow.session.add(package)
        await uow.session.flush()
        purchase = PackagePurchase(
            guild_id=offering.guild_id, package_id=package.id, offering_id=offering.id,
            student_id=w["student"].id, credits=credits, status="active", amount_minor=9000,
            currency="USD", paid_at=now, expires_at=now + timedelta(days=valid_days))
        uow.session.add(purchase)
        await uow.commit()
        return purchase.id


async def credit_uses(bot):
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(CreditUse).order_by(CreditUse.id)))


async def to_summary(w, *, day="2026-11-24", time="10:00", weeks=1, **options):
    driver, student = w["driver"], w["student"]
    reply = await driver.slash(student, "book", offering=str(w["paid"].id), **options)
    reply = await driver.select(student, reply.last, "book:day", [day])
    reply = await driver.select(student, reply.last, "book:slot",
                                [option(reply.last, "book:slot", time)])
    if weeks > 1:
        reply = await driver.select(student, reply.last, "book:repeat", [str(weeks)])
    return reply.last


def button(message, custom_id):
    [found] = [c for row in message.components for c in row["components"]
               if c.get("custom_id") == custom_id]
    return found


async def test_credits_book_without_paying_until_none_are_left(world):
    bot, driver, student, fake = world["bot"], world["driver"], world["student"], world["fake"]
    await give_credits(world, 2)

    for time, left in (("10:00", 2), ("11:00", 1)):
        summary = await to_summary(world, time=time)
        assert button(summary, "book:credit")["label"] == f"Use a credit ({left} left)"
        done = await driver.click(student, summary, "book:credit")
        assert "One package credit used." in done.last.content

    rows = await bookings(bot)
    assert [b.status for b in rows] == ["confirmed", "confirmed"]
    assert [u.booking_id for u in await credit_uses(bot)] == [b.id for b in rows]
    assert fake.calls("POST", "/v1/checkout/sessions") == []  # nothing was charged

    summary = await to_summary(world, time="12:00")
    assert "book:credit" not in summary.custom_ids
    assert "book:pay" in summary.custom_ids


async def test_a_weekly_series_spends_one_credit_per_week(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    await give_credits(world, 3)
    summary = await to_summary(world, weeks=3)
    assert button(summary, "book:credit")["label"] == "Use 3 credits (3 left)"

    done = await driver.click(student, summary, "book:credit")

    rows = await bookings(bot)
    assert len(rows) == 3 and {b.status for b in rows} == {"confirmed"}
    assert len(await credit_uses(bot)) == 3
    assert "3 credits used." in done.last.content


async def test_too_few_credits_for_the_series_hides_the_credit_button(world):
    await give_credits(world, 2)
    summary = await to_summary(world, weeks=3)
    assert "book:credit" not in summary.custom_ids
    assert "not enough for every week" in summary.content


async def test_expired_credits_are_not_offered(world):
    await give_credits(world, 2, valid_days=1)
    world["clock"].advance(seconds=2 * 86400)
    summary = await to_summary(world, day="2026-11-26")
    assert "book:credit" not in summary.custom_ids


async def test_a_referral_code_is_kept_on_the_paid_booking_with_the_commission(world):
    bot, driver, student, other = world["bot"], world["driver"], world["student"], world["other"]
    async with bot.services.uow() as uow:
        code = await referral_code(uow, guild_id=bot.guilds[0].id, user_id=other.id)
        await uow.commit()

    summary = await to_summary(world, referral=code.lower())
    await driver.click(student, summary, "book:pay")

    [held] = await bookings(bot)
    assert (held.referrer_id, held.referral_percent) == (other.id, 10)


async def test_unknown_and_own_referral_codes_are_refused_before_anything_is_shown(world):
    bot, driver, student = world["bot"], world["driver"], world["student"]
    async with bot.services.uow() as uow:
        own = await referral_code(uow, guild_id=bot.guilds[0].id, user_id=student.id)
        await uow.commit()

    mine = await driver.slash(student, "book", offering=str(world["paid"].id), referral=own)
    assert mine.last.ephemeral
    assert "your own referral code" in mine.last.content
    unknown = await driver.slash(student, "book", offering=str(world["paid"].id),
                                 referral="NOPE1234")
    assert unknown.last.ephemeral
    assert "not known" in unknown.last.content
    assert "book:day" not in unknown.last.custom_ids
    assert await bookings(bot) == []
