"""Session packages through the interaction driver and the fake Stripe server: a coach adds
and removes packages, a student buys one (the Checkout request's amount and metadata, the
signed webhook that makes the credits appear in `/packages list`), refusals that write
nothing, a credit returned (or not) on `/cancel`, expired credits listed but unusable, and the
expiry DM 7 days ahead, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import discord.ext.test as dpytest
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.cancellation import CONFIRM_ID, REASON_ID
from bot.web import WebServer
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from scheduling.credits import credit_balance
from scheduling.policy import make_policy
from storage.models import CreditUse, Package, PackagePurchase
from tests.cogs.booking_seed import add_booking, history, seed_coach, seed_offering, setup_server
from tests.fake_stripe import signed_delivery
from tests.fixtures_bot import stripe_settings

CREATE = ("POST", "/v1/checkout/sessions")
REFUNDS = ("POST", "/v1/refunds")
THU_10 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 73 h after the clock's Monday 09:00
POLICY = make_policy([(48, 100), (24, 0)]).to_dict()


@pytest.fixture
async def world(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe, clock):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, other, coach_member = dpytest.get_config().members
    server = await setup_server(bot, guild, platform_fee_percent=10)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    offering = await seed_offering(bot, coach, price_minor=3000, currency="USD", policy=POLICY,
                                   title="Mock interview")
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")
    yield {"bot": bot, "driver": driver, "student": student, "other": other,
           "coach": coach_member, "server": server, "offering": offering,
           "fake": fake_stripe, "clock": clock}
    await bot.payments.drain()


async def packages(bot) -> list[Package]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(Package).order_by(Package.id)))


async def purchases(bot) -> list[PackagePurchase]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(PackagePurchase)
                                              .order_by(PackagePurchase.id)))


async def add_package(w, sessions=5, price="120", valid_days=90) -> Package:
    reply = await w["driver"].slash(w["coach"], "offering package add",
                                    offering=str(w["offering"].id), sessions=sessions,
                                    price=price, valid_days=valid_days)
    assert reply.last.ephemeral and reply.last.content.startswith("Added a package"), \
        reply.last.content
    return (await packages(w["bot"]))[-1]


async def post_webhook(bot, event: dict) -> tuple[int, dict]:
    web = WebServer(bot, host="127.0.0.1", port=0)
    await web.start()
    try:
        body, headers = signed_delivery(event, "whsec_coachbot")
        async with aiohttp.ClientSession() as http, http.post(
                f"{web.url}/stripe/webhook", data=body, headers=headers) as response:
            status, answer = response.status, await response.json()
        await bot.payments.drain()
    finally:
        await web.stop()
    return status, answer


async def buy(w, package: Package, member=None):
    return await w["driver"].slash(member or w["student"], "packages buy",
                                   package=str(package.id))


async def bought(w, package: Package) -> PackagePurchase:
    """Buy through Checkout and pay through the signed webhook."""
    await buy(w, package)
    purchase = (await purchases(w["bot"]))[-1]
    event = w["fake"].complete_checkout(purchase.checkout_session_id)
    status, _ = await post_webhook(w["bot"], event)
    assert status == 200
    return (await purchases(w["bot"]))[-1]


async def credits_shown(w, member=None):
    return (await w["driver"].slash(member or w["student"], "packages list")).last


# ---------------------------------------------------------------- the coach's packages


async def test_coach_adds_lists_and_removes_a_package(world):
    bot, driver, coach = world["bot"], world["driver"], world["coach"]
    reply = await driver.slash(coach, "offering package add", offering="Mock interview",
                               sessions=5, price="120", valid_days=90)
    assert reply.last.content == ("Added a package to **Mock interview**: 5 sessions for "
                                  "$120.00, valid 90 days. Students buy it with "
                                  "`/packages buy`.")
    [package] = await packages(bot)
    assert (package.sessions, package.price_minor, package.currency, package.valid_days,
            package.active) == (5, 12000, "USD", 90, True)

    listed = (await driver.slash(coach, "offering list")).last
    assert "Packages: 5 for $120.00 (90 d)" in listed.embeds[0].fields[0].value

    choices = await driver.autocomplete(coach, "offering package remove", focused="package",
                                        value="mock")
    assert [(c.name, c.value) for c in choices] == [
        ("5 × Mock interview with Coach Carla — $120.00", str(package.id))]
    on_sale = await driver.autocomplete(world["student"], "packages buy", focused="package",
                                        value="")
    assert [c.value for c in on_sale] == [str(package.id)]

    removed = (await driver.slash(coach, "offering package remove",
                                  package=str(package.id))).last
    assert removed.content.startswith("Stopped selling 5 × **Mock interview** ($120.00).")
    assert [p.active for p in await packages(bot)] == [False]
    assert await driver.autocomplete(world["student"], "packages buy", focused="package",
                                     value="") == []


@pytest.mark.parametrize(("options", "message"), [
    ({"price": "0"}, "A package needs a price above zero."),
    ({"price": "lots"}, "`lots` is not a price."),
    ({"price": "-5"}, "A price cannot be negative."),
    ({"price": "12.345"}, "USD prices have 2 decimal places"),
])
async def test_bad_packages_are_refused_and_nothing_is_stored(world, options, message):
    values = {"offering": str(world["offering"].id), "sessions": 5, "price": "120",
              "valid_days": 90, **options}
    reply = await world["driver"].slash(world["coach"], "offering package add", **values)
    assert reply.last.ephemeral and message in reply.last.content
    assert await packages(world["bot"]) == []


async def test_a_second_package_with_the_same_size_and_free_offerings_are_refused(world):
    await add_package(world)
    again = await world["driver"].slash(world["coach"], "offering package add",
                                        offering=str(world["offering"].id), sessions=5,
                                        price="100", valid_days=30)
    assert "already sells a package of 5 sessions" in again.last.content
    coach = await seed_coach_row(world)
    free = await seed_offering(world["bot"], coach, title="Intro call", price_minor=0)
    refused = await world["driver"].slash(world["coach"], "offering package add",
                                          offering=str(free.id), sessions=3, price="10",
                                          valid_days=30)
    assert "is free, so there is nothing to sell" in refused.last.content
    assert len(await packages(world["bot"])) == 1


async def seed_coach_row(w):
    async with w["bot"].services.uow() as uow:
        return await uow.coaches.get(w["offering"].coach_id)


async def test_only_the_offerings_coach_can_remove_its_package(world):
    package = await add_package(world)
    await seed_coach(world["bot"], world["other"], name="Coach Olga")
    choices = await world["driver"].autocomplete(world["other"], "offering package remove",
                                                 focused="package", value="")
    assert choices == []
    reply = await world["driver"].slash(world["other"], "offering package remove",
                                        package=str(package.id))
    assert reply.last.ephemeral
    assert "belongs to another coach" in reply.last.content
    assert [p.active for p in await packages(world["bot"])] == [True]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=st.text(min_size=1, max_size=30))
async def test_fuzzed_package_prices_are_stored_or_refused(world, price):
    before = await packages(world["bot"])
    reply = await world["driver"].slash(world["coach"], "offering package add",
                                        offering=str(world["offering"].id), sessions=4,
                                        price=price, valid_days=30)
    after = await packages(world["bot"])
    assert reply.last.ephemeral
    if len(after) != len(before):
        assert reply.last.content.startswith("Added a package")
        assert after[-1].price_minor > 0
        async with world["bot"].services.uow() as uow:  # start the next example clean
            for row in await uow.session.scalars(select(Package)):
                await uow.session.delete(row)
            await uow.commit()
    else:
        assert not reply.last.content.startswith("Added")


# ---------------------------------------------------------------- buying


async def test_buying_through_checkout_and_the_webhook_makes_the_credits_appear(world):
    bot, fake, student = world["bot"], world["fake"], world["student"]
    package = await add_package(world)

    reply = (await buy(world, package)).last

    [purchase] = await purchases(bot)
    assert (purchase.status, purchase.credits, purchase.amount_minor,
            purchase.platform_fee_minor) == ("pending_payment", 5, 12000, 1200)
    request = fake.last(*CREATE)
    params = request.params
    assert params["client_reference_id"] == f"package:{purchase.id}"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "12000"
    assert params["line_items"][0]["price_data"]["currency"] == "usd"
    assert params["line_items"][0]["price_data"]["product_data"]["name"] == (
        "5 × Mock interview with Coach Carla")
    assert params["metadata"]["package_purchase_id"] == str(purchase.id)
    assert params["metadata"]["source"] == "coachbot"
    assert params["metadata"]["student_id"] == str(student.id)
    assert params["metadata"]["offering_id"] == str(world["offering"].id)
    assert request.headers["Idempotency-Key"] == f"package:{purchase.id}:checkout"
    assert reply.ephemeral
    [button] = reply.components[0]["components"]
    assert button["label"] == "Pay $120.00"
    assert button["url"] == fake.sessions[purchase.checkout_session_id]["url"]
    assert "waiting for the payment" in (await credits_shown(world)).embeds[0].fields[0].value

    event = fake.complete_checkout(purchase.checkout_session_id)
    status, answer = await post_webhook(bot, event)

    assert (status, answer["status"]) == (200, "applied")
    [paid] = await purchases(bot)
    expires = world["clock"]() + timedelta(days=90)
    assert (paid.status, paid.paid_at, paid.expires_at) == ("active", world["clock"](), expires)
    assert paid.payment_intent_id.startswith("pi_")
    dms = [m.content for m in await history(student.dm_channel)]
    assert any(d.startswith("Your 5 credits for **Mock interview** are ready: use them with "
                            f"`/book`. They expire <t:{int(expires.timestamp())}:D>")
               for d in dms)
    shown = await credits_shown(world)
    assert shown.ephemeral
    assert shown.embeds[0].description == "5 credits ready to use with `/book`."
    field = shown.embeds[0].fields[0]
    assert field.name == "Mock interview · 5 credits left"
    assert f"**5** of 5 credits left, expire <t:{int(expires.timestamp())}:D>" in field.value

    # The same delivery again changes nothing and sends no second DM.
    status, answer = await post_webhook(bot, event)
    assert (status, answer["status"]) == (200, "duplicate")
    again = await bot.payments.handle_event(event_from_dict({**event, "id": "evt_replayed"}))
    assert again.status == "applied" and again.actions == ()
    assert [p.paid_at for p in await purchases(bot)] == [world["clock"]()]
    assert sum("are ready" in m.content for m in await history(student.dm_channel)) == 1


async def test_an_expired_or_failed_checkout_gives_no_credits(world):
    bot, fake = world["bot"], world["fake"]
    package = await add_package(world)
    await buy(world, package)
    [first] = await purchases(bot)
    await bot.payments.handle_event(event_from_dict(
        fake.expire_checkout(first.checkout_session_id)))
    await buy(world, package)
    second = (await purchases(bot))[-1]
    fake.complete_checkout(second.checkout_session_id, delayed=True)
    await bot.payments.handle_event(event_from_dict(
        fake.settle_delayed_payment(second.checkout_session_id, succeeded=False)))
    await bot.payments.drain()

    assert [p.status for p in await purchases(bot)] == ["expired", "failed"]
    assert "no session packages" in (await credits_shown(world)).content
    dms = [m.content for m in await history(world["student"].dm_channel)]
    assert any("did not go through, so no credits were added" in d for d in dms)


async def test_refusals_write_nothing_and_call_no_stripe(world):
    bot, driver = world["bot"], world["driver"]
    package = await add_package(world)

    own = await buy(world, package, member=world["coach"])
    assert own.last.ephemeral and "your own package" in own.last.content
    unknown = await driver.slash(world["student"], "packages buy", package="999999")
    assert unknown.last.ephemeral and "does not exist" in unknown.last.content
    await driver.slash(world["coach"], "offering package remove", package=str(package.id))
    inactive = await buy(world, package)
    assert "does not exist" in inactive.last.content
    assert await purchases(bot) == []
    assert world["fake"].calls(*CREATE) == []


async def test_buying_without_stripe_is_refused(make_coachbot, make_driver):
    bot = await make_coachbot()
    student, _, coach_member = dpytest.get_config().members
    coach = await seed_coach(bot, coach_member)
    offering = await seed_offering(bot, coach, price_minor=3000)
    async with bot.services.uow() as uow:
        package = await uow.packages.add_package(
            guild_id=offering.guild_id, offering_id=offering.id, sessions=3,
            price_minor=8000, currency="USD", valid_days=30)
        await uow.commit()
    reply = await make_driver(bot).slash(student, "packages buy", package=str(package.id))
    assert reply.last.ephemeral and "not connected to Stripe" in reply.last.content
    assert await purchases(bot) == []


# ---------------------------------------------------------------- credits, cancel, expiry


async def credit_booking(w, purchase: PackagePurchase, start=THU_10) -> int:
    booking = await add_booking(w["bot"], w["offering"], w["student"].id, start)
    async with w["bot"].services.uow() as uow:
        uow.session.add(CreditUse(purchase_id=purchase.id, booking_id=booking.id,
                                  used_at=w["clock"]()))
        await uow.commit()
    return booking.id


async def cancel(w, member, booking_id, reason="Something came up"):
    driver = w["driver"]
    shown = await driver.slash(member, "cancel", booking=booking_id)
    opened = await driver.click(member, shown.last, CONFIRM_ID)
    done = await driver.submit_modal(member, opened, {REASON_ID: reason})
    return shown.last, done.last


async def credit_use(bot, booking_id) -> CreditUse:
    async with bot.services.uow() as uow:
        return await uow.packages.credit_use_for_booking(booking_id)


async def test_cancelling_within_policy_returns_the_credit(world):
    purchase = await bought(world, await add_package(world, sessions=3))
    booking_id = await credit_booking(world, purchase)
    assert "**2** of 3 credits left" in (await credits_shown(world)).embeds[0].fields[0].value

    shown, done = await cancel(world, world["student"], booking_id)

    assert shown.embeds[0].fields[1].value == "Your credit is returned (3 credits left)."
    assert "Your credit is returned (3 credits left)." in done.content
    assert (await credit_use(world["bot"], booking_id)).returned_at == world["clock"]()
    assert world["fake"].calls(*REFUNDS) == []
    assert "**3** of 3 credits left" in (await credits_shown(world)).embeds[0].fields[0].value


async def test_no_credit_back_inside_the_zero_percent_tier(world):
    purchase = await bought(world, await add_package(world, sessions=3))
    booking_id = await credit_booking(world, purchase)
    world["clock"].advance(hours=30)  # 43 h before: the 0 % tier

    shown, done = await cancel(world, world["student"], booking_id)

    assert shown.embeds[0].fields[1].value == "No credit back under the policy."
    assert "No credit back under the policy." in done.content
    assert (await credit_use(world["bot"], booking_id)).returned_at is None
    assert "**2** of 3 credits left" in (await credits_shown(world)).embeds[0].fields[0].value


async def test_the_coach_cancelling_returns_the_credit_and_tells_the_student(world):
    purchase = await bought(world, await add_package(world, sessions=3))
    booking_id = await credit_booking(world, purchase)
    world["clock"].advance(hours=70)  # 3 h before: too late for the student

    shown, _ = await cancel(world, world["coach"], booking_id, "I am ill")

    assert "gets their package credit back" in shown.embeds[0].fields[2].value
    assert (await credit_use(world["bot"], booking_id)).returned_at is not None
    dms = [m.content for m in await history(world["student"].dm_channel)]
    assert any("Your coach cancelled" in d and "Your credit is returned (3 credits left)." in d
               for d in dms)


async def test_expired_credits_stay_listed_and_unusable(world):
    bot = world["bot"]
    purchase = await bought(world, await add_package(world, sessions=4, valid_days=10))
    await credit_booking(world, purchase)
    world["clock"].advance(days=10)

    field = (await credits_shown(world)).embeds[0].fields[0]
    assert field.name == "Mock interview · 0 credits left"
    assert field.value == (f"- 3 of 4 credits unused, expired "
                           f"<t:{int(purchase.expires_at.timestamp())}:D>")
    async with bot.services.uow() as uow:
        balance = await credit_balance(uow, guild_id=purchase.guild_id,
                                       student_id=purchase.student_id,
                                       offering_id=purchase.offering_id, now=world["clock"]())
    assert balance.remaining == 0
    assert [p.status for p in await purchases(bot)] == ["active"]  # kept on record


async def test_expiry_dm_seven_days_ahead_exactly_once(world):
    bot, student, clock = world["bot"], world["student"], world["clock"]
    purchase = await bought(world, await add_package(world, sessions=3, valid_days=30))
    cog = bot.get_cog("PackageExpiry")
    expires = purchase.expires_at

    clock.advance(days=23, minutes=-1)
    assert await cog.run_once() == []
    clock.advance(minutes=1)
    [notice] = await cog.run_once()
    clock.advance(hours=1)
    assert await cog.run_once() == []

    expected = (f"3 credits for **Mock interview** expire <t:{int(expires.timestamp())}:R>")
    dms = [m.content for m in await history(student.dm_channel)]
    assert sum(d.startswith(expected) for d in dms) == 1
    assert notice.text.startswith(expected) and "/book" in notice.text


async def test_a_short_package_gets_no_separate_expiry_notice(world):
    purchase = await bought(world, await add_package(world, sessions=2, valid_days=5))
    assert purchase.expiry_notice_sent_at == purchase.paid_at
    assert await world["bot"].get_cog("PackageExpiry").run_once() == []
