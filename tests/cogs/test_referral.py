"""`/referral link|stats` through the driver, the server's commission set with `/coaching setup`,
and `/coaching earnings` listing referrers' commissions: from seeded payments, and end to end
through the fake Stripe server (paid, then fully refunded by the coach's cancellation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import discord.ext.test as dpytest
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.cancellation import CONFIRM_ID, REASON_ID
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from scheduling.booking import BookingRequest, book
from scheduling.payments import start_checkout
from scheduling.referrals import resolve_referral
from storage.models import Payment, Refund
from storage.models.referrals import ReferralCode
from tests.cogs.booking_seed import (
    TUE,
    add_booking,
    at,
    new_member,
    seed_coach,
    seed_offering,
    setup_server,
)
from tests.fixtures_bot import stripe_settings
from tests.harness import CommandUnavailableError, grant_permissions

COMMISSION = "Referral commissions (the server pays these)"
THU_10 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 73 h after the clock's Monday 09:00


def make_admin(member):
    grant_permissions(member, discord.Permissions(manage_guild=True), name="Admins")
    return member


def fields(reply):
    return {field.name: field.value for field in reply.embeds[0].fields}


async def set_commission(bot, guild, percent):
    async with bot.services.uow() as uow:
        await uow.guild_settings.update(guild.id, referral_commission_percent=percent)
        await uow.commit()


async def codes(bot):
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(ReferralCode).order_by(ReferralCode.id)))


# ---------------------------------------------------------------- /referral link and stats


async def test_link_gives_any_member_one_code_and_says_how_to_share_it(coachbot, driver,
                                                                       guild, members):
    await set_commission(coachbot, guild, 10)
    member = members[0]  # not a coach, not an admin

    reply = (await driver.slash(member, "referral link")).last

    assert reply.ephemeral
    [row] = await codes(coachbot)
    assert (row.guild_id, row.user_id) == (guild.id, member.id)
    assert len(row.code) == 8
    assert reply.content.splitlines() == [
        f"Your referral code on this server: **{row.code}**",
        f"Share it: students enter it in `/book referral:{row.code}`.",
        "You earn **10 %** of what students pay for bookings made with your code (after "
        "refunds). Server admins see it in `/coaching earnings` and pay it out.",
    ]
    again = (await driver.slash(member, "referral link")).last
    assert again.content == reply.content
    assert len(await codes(coachbot)) == 1
    other = (await driver.slash(members[1], "referral link")).last
    assert row.code not in other.content
    assert len(await codes(coachbot)) == 2


async def test_link_says_when_the_server_pays_no_commission(coachbot, driver, members):
    reply = (await driver.slash(members[0], "referral link")).last
    assert reply.ephemeral
    assert "This server pays no referral commission at the moment" in reply.content
    assert "`/coaching setup referral_commission_percent:`" in reply.content


async def test_referral_commands_are_server_only(driver, members):
    for command in ("referral link", "referral stats"):
        with pytest.raises(CommandUnavailableError, match="not available in DMs"):
            await driver.slash(members[0], command, dm=True)


async def test_the_code_from_link_is_what_book_resolves(coachbot, driver, guild, members):
    await set_commission(coachbot, guild, 12)
    await driver.slash(members[1], "referral link")
    [row] = await codes(coachbot)
    async with coachbot.services.uow() as uow:
        referral = await resolve_referral(uow, guild_id=guild.id, code=row.code.lower(),
                                          student_id=members[0].id)
    assert (referral.referrer_id, referral.percent, referral.code) == (members[1].id, 12,
                                                                       row.code)


async def test_stats_show_the_callers_referred_bookings_and_commission(coachbot, driver,
                                                                       guild, members):
    student, referrer, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach, price_minor=10_000, currency="USD")
    await paid_booking(coachbot, offering, at(TUE, 10), referrer=referrer.id, percent=10)
    await paid_booking(coachbot, offering, at(TUE, 12), referrer=referrer.id, percent=10,
                       status="refunded", refunds=((10_000, "succeeded"),))
    await paid_booking(coachbot, offering, at(TUE, 14), referrer=student.id, percent=10)

    reply = (await driver.slash(referrer, "referral stats")).last

    assert reply.ephemeral
    lines = reply.content.splitlines()
    assert lines[0].startswith("Your referral code: **") and lines[0].endswith(
        "** · commission now: 0 %")
    assert lines[1:] == ["USD: 2 paid bookings (1 fully refunded) · commission $10.00"]
    fresh = (await driver.slash(coach_member, "referral stats")).last
    assert "No paid bookings with your code yet" in fresh.content


# ---------------------------------------------------------------- the server's percent


async def test_setup_sets_the_percent_that_link_then_shows(coachbot, driver, guild, members):
    admin = make_admin(new_member(guild, "Admin"))
    reply = (await driver.slash(admin, "coaching setup", referral_commission_percent=7)).last
    assert reply.embeds[0].description == "Changed: Referral commission."
    link = (await driver.slash(members[0], "referral link")).last
    assert "You earn **7 %** of what students pay" in link.content


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(percent=0)
@example(percent=100)
@example(percent=101)
@example(percent=-1)
@given(percent=st.integers(min_value=-10_000, max_value=10_000))
async def test_any_percent_is_stored_or_refused_without_writing(coachbot, driver, guild,
                                                                members, percent):
    admin = make_admin(members[2])
    async with coachbot.services.uow() as uow:
        before = await uow.guild_settings.get(guild.id)
        stored = before.referral_commission_percent if before is not None else 0
        audits = len(await uow.audit.list_for_guild(guild.id))

    reply = (await driver.slash(admin, "coaching setup",
                                referral_commission_percent=percent)).last

    assert reply.ephemeral
    async with coachbot.services.uow() as uow:
        after = await uow.guild_settings.get(guild.id)
        now_stored = after.referral_commission_percent if after is not None else 0
        now_audits = len(await uow.audit.list_for_guild(guild.id))
    if 0 <= percent <= 100:
        assert now_stored == percent
        assert now_audits == audits + (percent != stored)
    else:
        assert "whole number from 0 to 100" in reply.content
        assert (now_stored, now_audits) == (stored, audits)


# ---------------------------------------------------------------- /coaching earnings


async def paid_booking(bot, offering, start, *, referrer, percent, amount=10_000,
                       status="paid", refunds=()):
    booking = await add_booking(bot, offering, 4242, start, referrer_id=referrer,
                                referral_percent=percent)
    async with bot.services.uow() as uow:
        payment = Payment(booking_id=booking.id, checkout_session_id=f"cs_{booking.id}",
                          amount_minor=amount, currency=offering.currency, status=status)
        uow.session.add(payment)
        await uow.session.flush()
        for number, (minor, refund_status) in enumerate(refunds):
            uow.session.add(Refund(payment_id=payment.id, amount_minor=minor,
                                   status=refund_status,
                                   idempotency_key=f"refund:{payment.id}:{number}"))
        await uow.commit()
    return booking


async def test_earnings_list_a_referrers_commission_on_a_paid_booking(coachbot, driver, guild,
                                                                      members):
    _student, referrer, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach, price_minor=10_000, currency="USD")
    await paid_booking(coachbot, offering, at(TUE, 10), referrer=referrer.id, percent=10)
    await paid_booking(coachbot, offering, at(TUE, 12), referrer=None, percent=None)

    reply = (await driver.slash(make_admin(new_member(guild, "Admin")),
                                "coaching earnings")).last

    assert reply.ephemeral
    shown = fields(reply)
    assert shown["Coach Carla (USD)"].startswith("2 sessions · paid $200.00")
    assert shown[COMMISSION] == (f"<@{referrer.id}> (USD): 1 referred booking · kept $100.00 · "
                                 "**commission $10.00**")
    assert list(shown)[-1] == COMMISSION


async def test_earnings_give_no_commission_after_a_full_refund(coachbot, driver, guild,
                                                               members):
    student, referrer, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach, price_minor=10_000, currency="USD")
    await paid_booking(coachbot, offering, at(TUE, 10), referrer=referrer.id, percent=10,
                       status="refunded", refunds=((10_000, "succeeded"),))
    await paid_booking(coachbot, offering, at(TUE, 12), referrer=student.id, percent=10,
                       status="partially_refunded", refunds=((4_000, "pending"),))

    reply = (await driver.slash(make_admin(new_member(guild, "Admin")),
                                "coaching earnings")).last

    assert sorted(fields(reply)[COMMISSION].splitlines()) == sorted([
        f"<@{referrer.id}> (USD): 1 referred booking (1 fully refunded) · kept nothing · "
        "**commission nothing**",
        f"<@{student.id}> (USD): 1 referred booking · kept $60.00 · **commission $6.00**",
    ])


async def test_earnings_without_referred_bookings_show_no_commission_field(coachbot, driver,
                                                                           guild, members):
    coach = await seed_coach(coachbot, members[2], name="Coach Carla")
    offering = await seed_offering(coachbot, coach, price_minor=10_000, currency="USD")
    await paid_booking(coachbot, offering, at(TUE, 10), referrer=None, percent=None)
    reply = (await driver.slash(make_admin(members[0]), "coaching earnings")).last
    assert COMMISSION not in fields(reply)


# ---------------------------------------------------------------- end to end with Stripe


@pytest.fixture
async def world(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe, clock):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, referrer, coach_member = dpytest.get_config().members
    await setup_server(bot, guild, referral_commission_percent=15)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    offering = await seed_offering(bot, coach, price_minor=2000, currency="USD")
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "guild": guild, "student": student,
           "referrer": referrer, "coach": coach_member, "offering": offering,
           "fake": fake_stripe, "clock": clock}
    await bot.payments.drain()


async def test_commission_on_a_stripe_paid_booking_and_none_after_the_coach_refunds(world):
    bot, driver, clock = world["bot"], world["driver"], world["clock"]
    link = (await driver.slash(world["referrer"], "referral link")).last
    [row] = await codes(bot)
    assert "15 %" in link.content
    async with bot.services.uow() as uow:
        referral = await resolve_referral(uow, guild_id=world["guild"].id,
                                          code=f" {row.code[:4]}-{row.code[4:]} ",
                                          student_id=world["student"].id)
    booking = await book(bot.services.uow, BookingRequest(
        world["offering"].id, world["student"].id, THU_10, referrer_id=referral.referrer_id,
        referral_percent=referral.percent), now=clock(), hold=timedelta(minutes=32))
    started = await start_checkout(bot.services.uow, bot.payments.gateway, booking.id,
                                   now=clock(), public_url="https://coachbot.example")
    await bot.payments.handle_event(event_from_dict(
        world["fake"].complete_checkout(started.session_id)))
    await bot.payments.drain()
    admin = make_admin(new_member(world["guild"], "Admin"))

    paid = (await driver.slash(admin, "coaching earnings")).last
    assert fields(paid)[COMMISSION] == (
        f"<@{world['referrer'].id}> (USD): 1 referred booking · kept $20.00 · "
        "**commission $3.00**")

    coach = world["coach"]
    shown = await driver.slash(coach, "cancel", booking=booking.id)
    opened = await driver.click(coach, shown.last, CONFIRM_ID)
    await driver.submit_modal(coach, opened, {REASON_ID: "I am ill"})
    await bot.payments.drain()
    assert world["fake"].last("POST", "/v1/refunds").params["amount"] == "2000"

    refunded = (await driver.slash(admin, "coaching earnings")).last
    assert fields(refunded)[COMMISSION] == (
        f"<@{world['referrer'].id}> (USD): 1 referred booking (1 fully refunded) · kept "
        "nothing · **commission nothing**")
    async with bot.services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Refund)) == 1
