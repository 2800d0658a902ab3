"""The bot's web server with the real CoachBot: a paid booking end to end (hold, Checkout
request, a signed `checkout.session.completed` posted to `/stripe/webhook`, then the role,
channel and DMs), signatures that are forged, stale or missing (400, nothing changed), the
same delivery three times, payment for a time someone else took (automatic refund, DM with
other times), the health check and the pages Checkout returns to."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend
from sqlalchemy import func, select

from bot.client import CoachBot
from bot.web import WebServer, WebServerError
from payments.stripe_gateway import StripeGateway
from scheduling.booking import BookingRequest, book
from scheduling.errors import NotConfigured
from storage.models import AvailabilityWindow, BookingStatusChange, ProcessedWebhookEvent
from tests.fake_stripe import FakeStripe, build_event, signature, signed_delivery
from tests.fixtures_bot import stripe_settings
from tests.harness import close_dms, sent_payload

SECRET = "whsec_coachbot"  # what tests.fixtures_bot.stripe_settings configures
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@dataclass
class Shop:
    bot: CoachBot
    web: WebServer
    http: aiohttp.ClientSession
    fake: FakeStripe
    guild: discord.Guild
    student: discord.Member
    coach: discord.Member
    other: discord.Member
    role: discord.Role
    offering_id: int

    async def post_event(self, event: dict, *, secret: str = SECRET,
                         timestamp: int | None = None) -> tuple[int, dict]:
        body, headers = signed_delivery(event, secret, timestamp=timestamp)
        return await self.post(body, headers)

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        async with self.http.post(f"{self.web.url}/stripe/webhook", data=body,
                                  headers=headers) as response:
            return response.status, await response.json()

    async def checkout(self, student: discord.Member | None = None):
        return await self.bot.payments.book_and_checkout(
            BookingRequest(self.offering_id, (student or self.student).id, TUE_10))

    async def booking(self, booking_id: int):
        async with self.bot.services.uow() as uow:
            return await uow.bookings.get(booking_id)


async def seed_paid_offering(bot: CoachBot, guild: discord.Guild, coach: discord.Member) -> int:
    async with bot.services.uow() as uow:
        row = await uow.coaches.create(guild_id=guild.id, user_id=coach.id,
                                       display_name="Coach Carla")
        schedule = await uow.schedules.create(coach_id=row.id, name="default", timezone="UTC",
                                              is_default=True)
        for day in range(5):
            uow.session.add(AvailabilityWindow(schedule_id=schedule.id, weekday=day,
                                               start_minute=9 * 60, end_minute=17 * 60))
        offering = await uow.offerings.create(
            guild_id=guild.id, coach_id=row.id, schedule_id=schedule.id, status="published",
            title="Mock interview", price_minor=2500, currency="USD", duration_minutes=60,
            min_notice_minutes=60)
        await uow.commit()
        return offering.id


@pytest.fixture
async def shop(make_coachbot, bot_settings, stripe_client,
               fake_stripe) -> AsyncIterator[Shop]:
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, coach, other = dpytest.get_config().members[:3]
    role = await guild.create_role(name="Coaching Access")
    category = await guild.create_category("Coaching sessions")
    async with bot.services.uow() as uow:
        await uow.guild_settings.update(guild.id, access_role_id=role.id,
                                        category_id=category.id,
                                        log_channel_id=guild.text_channels[1].id)
        await uow.commit()
    offering_id = await seed_paid_offering(bot, guild, coach)
    server = WebServer(bot, host="127.0.0.1", port=0)
    await server.start()
    async with aiohttp.ClientSession() as http:
        yield Shop(bot, server, http, fake_stripe, guild, student, coach, other, role,
                   offering_id)
    await bot.payments.drain()
    await server.stop()


def dms(member: discord.Member) -> list[str]:
    channel = member.dm_channel
    if channel is None:
        return []
    return [m["content"] for m in backend._cur_config.messages.get(channel.id, [])]


async def status_changes(shop: Shop, booking_id: int) -> list[str]:
    async with shop.bot.services.uow() as uow:
        rows = await uow.session.scalars(
            select(BookingStatusChange.to_status)
            .where(BookingStatusChange.booking_id == booking_id)
            .order_by(BookingStatusChange.id))
        return list(rows)


async def events_recorded(shop: Shop) -> int:
    async with shop.bot.services.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(ProcessedWebhookEvent))


# ---------------------------------------------------------------- the whole way


async def test_paid_booking_end_to_end(shop):
    started = await shop.checkout()

    # The Checkout request Stripe received.
    request = shop.fake.last("POST", "/v1/checkout/sessions")
    booking_id = started.booking_id
    assert request.idempotency_key == f"booking:{booking_id}:checkout"
    assert request.params["client_reference_id"] == str(booking_id)
    assert request.params["metadata"]["booking_id"] == str(booking_id)
    [item] = request.params["line_items"]
    assert item["price_data"]["unit_amount"] == "2500"
    assert item["price_data"]["currency"] == "usd"
    assert item["price_data"]["product_data"]["name"] == "Mock interview with Coach Carla"
    now = shop.bot.services.clock()
    assert int(request.params["expires_at"]) == int((now + timedelta(minutes=32)).timestamp())
    assert request.params["success_url"].startswith("http://localhost:8080/checkout/success")
    assert started.checkout_url.startswith("https://checkout.stripe.com/")
    assert (await shop.booking(booking_id)).status == "pending_payment"
    assert shop.role not in shop.student.roles

    status, body = await shop.post_event(shop.fake.complete_checkout(started.session_id))

    assert status == 200 and body["received"] is True and body["status"] == "applied"
    await shop.bot.payments.drain()
    booking = await shop.booking(booking_id)
    assert booking.status == "confirmed"
    assert shop.role in shop.guild.get_member(shop.student.id).roles
    assert isinstance(shop.guild.get_channel(booking.text_channel_id), discord.TextChannel)
    assert any(text.startswith("You are booked") for text in dms(shop.student))
    assert any(text.startswith("New booking") for text in dms(shop.coach))


async def test_the_same_delivery_three_times_changes_things_once(shop):
    started = await shop.checkout()
    event = shop.fake.complete_checkout(started.session_id)

    replies = [await shop.post_event(event) for _ in range(3)]
    await shop.bot.payments.drain()

    assert [status for status, _ in replies] == [200, 200, 200]
    assert [body["status"] for _, body in replies] == ["applied", "duplicate", "duplicate"]
    assert await status_changes(shop, started.booking_id) == ["pending_payment", "confirmed"]
    assert await events_recorded(shop) == 1
    assert len([t for t in dms(shop.student) if t.startswith("You are booked")]) == 1


# ---------------------------------------------------------------- signatures


async def assert_nothing_changed(shop: Shop, booking_id: int) -> None:
    await shop.bot.payments.drain()
    assert (await shop.booking(booking_id)).status == "pending_payment"
    assert await status_changes(shop, booking_id) == ["pending_payment"]
    assert await events_recorded(shop) == 0
    assert shop.role not in shop.guild.get_member(shop.student.id).roles


async def test_a_forged_signature_is_refused(shop):
    started = await shop.checkout()
    event = shop.fake.complete_checkout(started.session_id)

    status, body = await shop.post_event(event, secret="whsec_not_the_real_one")

    assert status == 400 and "signature" in body["error"]
    await assert_nothing_changed(shop, started.booking_id)


async def test_a_stale_signature_is_refused(shop):
    started = await shop.checkout()
    event = shop.fake.complete_checkout(started.session_id)

    status, body = await shop.post_event(event, timestamp=int(time.time()) - 600)

    assert status == 400 and "tolerance" in body["error"]
    await assert_nothing_changed(shop, started.booking_id)


async def test_a_tampered_body_is_refused(shop):
    started = await shop.checkout()
    genuine = shop.fake.expire_checkout(started.session_id)  # signed: an expiry
    _, headers = signed_delivery(genuine, SECRET)
    forged = build_event("checkout.session.completed",
                         dict(genuine["data"]["object"], status="complete",
                              payment_status="paid"), event_id=genuine["id"])
    forged_body, _ = signed_delivery(forged, SECRET)

    status, reply = await shop.post(forged_body, headers)  # the expiry's signature

    assert status == 400 and "signature" in reply["error"]
    await assert_nothing_changed(shop, started.booking_id)


@pytest.mark.parametrize("headers", [
    {},
    {"Stripe-Signature": ""},
    {"Stripe-Signature": "garbage"},
    {"Stripe-Signature": "t=notanumber,v1=abc"},
], ids=["missing", "empty", "garbage", "bad-timestamp"])
async def test_a_missing_or_malformed_signature_is_refused(shop, headers):
    started = await shop.checkout()
    body, _ = signed_delivery(shop.fake.complete_checkout(started.session_id), SECRET)

    status, reply = await shop.post(body, {"Content-Type": "application/json", **headers})

    assert status == 400 and reply["error"]
    await assert_nothing_changed(shop, started.booking_id)


async def test_a_signed_body_that_is_not_an_event_is_refused(shop):
    started = await shop.checkout()
    for body in (b"not json", b"\xff\xfe\x00", b'{"object": "list"}'):
        status, reply = await shop.post(body, {"Stripe-Signature": signature(body, SECRET)})
        assert status == 400 and "not a Stripe event" in reply["error"], body
    await assert_nothing_changed(shop, started.booking_id)


async def test_webhooks_without_a_configured_secret_are_refused(shop):
    shop.bot.payments._webhook_secret = None
    started = await shop.checkout()
    status, body = await shop.post_event(shop.fake.complete_checkout(started.session_id))
    assert status == 503 and "STRIPE_WEBHOOK_SECRET" in body["error"]


async def test_an_event_coachbot_does_not_use_is_acknowledged(shop):
    status, body = await shop.post_event(build_event("customer.created",
                                                     {"id": "cus_1", "object": "customer"}))
    assert (status, body["status"]) == (200, "ignored")


# ---------------------------------------------------------------- late payment


async def test_payment_for_a_time_someone_else_took_is_refunded_and_explained(shop):
    started = await shop.checkout()
    event = shop.fake.complete_checkout(started.session_id)  # paid, but the webhook is late
    clock = shop.bot.services.clock
    clock.advance(minutes=40)
    taken = await book(shop.bot.services.uow,
                       BookingRequest(shop.offering_id, shop.other.id, TUE_10), now=clock())
    assert taken.status == "confirmed"

    status, body = await shop.post_event(event)

    assert status == 200 and "refunding in full" in body["detail"]
    await shop.bot.payments.drain()
    refund = shop.fake.last("POST", "/v1/refunds")
    assert refund.params["amount"] == "2500"
    assert refund.idempotency_key == f"booking:{started.booking_id}:refund:1"
    assert (await shop.booking(started.booking_id)).status == "expired"
    assert shop.role not in shop.guild.get_member(shop.student.id).roles
    [notice] = [t for t in dms(shop.student) if "refunded" in t]
    assert "someone else had booked it" in notice and "$25.00" in notice
    assert "<t:" in notice.split("nearest free times")[1]


async def test_expired_checkout_releases_the_slot(shop):
    started = await shop.checkout()
    status, body = await shop.post_event(shop.fake.expire_checkout(started.session_id))
    assert (status, body["status"]) == (200, "applied")
    assert (await shop.booking(started.booking_id)).status == "expired"
    again = await shop.checkout(student=shop.other)
    assert again.booking_id != started.booking_id


# ---------------------------------------------------------------- maintenance cog


async def test_the_hold_cog_expires_due_holds_without_webhooks(shop):
    started = await shop.checkout()
    shop.bot.services.clock.advance(minutes=33)

    report = await shop.bot.get_cog("PaymentHolds").run_once()

    assert [h.result for h in report.holds] == ["released"]
    assert shop.fake.sessions[started.session_id]["status"] == "expired"
    assert (await shop.booking(started.booking_id)).status == "expired"


async def test_the_hold_cog_does_nothing_without_stripe(make_coachbot):
    bot = await make_coachbot()
    report = await bot.get_cog("PaymentHolds").run_once()
    assert (report.holds, report.refunds) == ((), ())
    with pytest.raises(NotConfigured, match="STRIPE_SECRET_KEY"):
        await bot.payments.book_and_checkout(BookingRequest(1, 2, TUE_10))


# ---------------------------------------------------------------- health and pages


async def test_healthz_reports_the_database(shop):
    async with shop.http.get(f"{shop.web.url}/healthz") as response:
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["stripe"] == "configured"


async def test_healthz_says_when_the_database_is_down(shop):
    await shop.bot.services.engine.dispose()
    original = shop.bot.services.uow

    def broken(**_):
        raise OSError("database unreachable")

    shop.bot.services.uow = broken
    try:
        async with shop.http.get(f"{shop.web.url}/healthz") as response:
            assert response.status == 503
            assert (await response.json())["database"] == "error"
    finally:
        shop.bot.services.uow = original


@pytest.mark.parametrize("path, words", [
    ("/checkout/success?booking=12&session_id=cs_test_1", "go back to Discord"),
    ("/checkout/cancel?booking=12", "nothing was charged"),
    ("/stripe/payouts/done", "Go back to Discord"),
    ("/stripe/payouts/done?expired=1", "/coach payouts"),
])
async def test_checkout_return_pages_send_students_back_to_discord(shop, path, words):
    async with shop.http.get(f"{shop.web.url}{path}") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert response.headers["Cache-Control"] == "no-store"
        page = await response.text()
    assert words in page
    assert "booking #12" in page or "payouts" in path


@pytest.mark.parametrize("path, words", [
    ("/checkout/success?package=7&session_id=cs_test_1", "/packages list"),
    ("/checkout/cancel?package=7", "nothing was charged"),
])
async def test_a_package_purchase_returns_to_its_own_page(shop, path, words):
    async with shop.http.get(f"{shop.web.url}{path}") as response:
        page = await response.text()
    assert words in page and "purchase #7" in page
    assert "session" not in page.split("<body>")[-1].replace("session_id", "")


async def test_return_pages_never_echo_markup(shop):
    async with shop.http.get(f"{shop.web.url}/checkout/success",
                             params={"booking": "<script>alert(1)</script>"}) as response:
        page = await response.text()
    assert "<script>" not in page and "alert" not in page


async def test_a_busy_port_is_one_clear_error(make_coachbot):
    bot = await make_coachbot()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(WebServerError, match=rf"127\.0\.0\.1:{port}.*\[web\]\.port"):
            await WebServer(bot, host="127.0.0.1", port=port).start()


async def test_the_runner_stops_with_one_line_when_the_port_is_busy(tmp_path, monkeypatch):
    """After logging in, the runner serves the web app before connecting to the gateway."""
    from aiohttp import web as aioweb

    from bot.runner import StartupError, run_bot
    from bot.settings import BotSettings, Secret, Settings, WebSettings

    async def discord_api(request: aioweb.Request) -> aioweb.Response:
        # discord.py decodes JSON only for exactly `application/json` (no charset).
        user = {"id": "1", "username": "coachbot", "avatar": None, "discriminator": "0",
                "bot": True}
        answers = {"/users/@me": user,
                   "/oauth2/applications/@me": {
                       "id": "1", "name": "Coachbot", "icon": None, "description": "",
                       "bot_public": True, "bot_require_code_grant": False,
                       "verify_key": "0" * 64, "flags": 0, "owner": user}}
        for suffix, answer in answers.items():
            if request.path.endswith(suffix):
                return aioweb.Response(body=json.dumps(answer).encode(),
                                       content_type="application/json")
        return aioweb.Response(body=b'{"message": "404: Not Found", "code": 0}', status=404,
                               content_type="application/json")

    app = aioweb.Application()
    app.router.add_route("*", "/{tail:.*}", discord_api)
    runner = aioweb.AppRunner(app)
    await runner.setup()
    site = aioweb.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    api_port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{api_port}/api/v10")
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
                                bot=BotSettings(data_dir=tmp_path, sync_commands_on_start=False),
                                web=WebSettings(host="127.0.0.1", port=busy),
                                discord_token=Secret("token"))
            with pytest.raises(StartupError, match=rf"cannot listen on 127\.0\.0\.1:{busy}"):
                await run_bot(settings)
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- student DMs


async def fail_delayed_payment(shop: Shop):
    started = await shop.checkout()
    await shop.post_event(shop.fake.complete_checkout(started.session_id, delayed=True))
    status, _ = await shop.post_event(shop.fake.settle_delayed_payment(started.session_id,
                                                                       succeeded=False))
    assert status == 200
    await shop.bot.payments.drain()
    return started


async def test_student_dms_show_titles_as_given_and_ping_nobody(shop):
    async with shop.bot.services.uow() as uow:
        offering = await uow.offerings.get(shop.offering_id)
        offering.title = "@everyone <@&123> prep"
        await uow.commit()

    started = await fail_delayed_payment(shop)

    assert (await shop.booking(started.booking_id)).status == "expired"
    stored = backend._cur_config.messages[shop.student.dm_channel.id]
    [message] = [m for m in stored if "did not go through" in m["content"]]
    assert "**@everyone <@&123> prep**" in message["content"]
    assert sent_payload(int(message["id"]))["allowed_mentions"] == {"parse": []}


async def test_closed_dms_never_break_the_webhook(shop, caplog):
    close_dms(shop.student)
    started = await fail_delayed_payment(shop)
    assert (await shop.booking(started.booking_id)).status == "expired"
    assert any("could not DM user" in r.getMessage() for r in caplog.records)
