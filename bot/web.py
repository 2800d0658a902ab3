"""The web server inside the bot process (aiohttp): Stripe webhooks, a health check and the
pages Checkout sends students back to.

- `POST /stripe/webhook`: verify the signature on the raw body, apply the event (its id is
  stored in the same transaction as the change), answer 2xx at once; provisioning and DMs run
  in background tasks (`bot.payments.drain()` awaits them). A bad, missing or stale signature
  gets 400 and changes nothing; a failure while applying gets 500, so Stripe retries.
- `GET /healthz`: 200 JSON when the database answers (503 otherwise).
- `GET /checkout/success`, `GET /checkout/cancel`: plain pages saying to go back to Discord;
  `GET /stripe/payouts/done`: the same for a coach back from Stripe's payout onboarding.

The runner starts it (`async with web_server(bot): ...`) with host and port from `[web]`;
tests start a `WebServer(bot, port=0)` themselves.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Final

from aiohttp import web
from sqlalchemy import text

from payments.webhooks import WebhookRejected, verify_event
from scheduling import calendar_feed as feeds

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

BOT: Final = web.AppKey("bot", object)
MAX_WEBHOOK_BYTES: Final = 512 * 1024
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


class WebServerError(Exception):
    """The web server could not start (one line for the person running the bot)."""


def _bot(request: web.Request) -> CoachBot:
    return request.app[BOT]  # type: ignore[return-value]


# ---------------------------------------------------------------- Stripe


async def stripe_webhook(request: web.Request) -> web.Response:
    payments = _bot(request).payments
    secret = payments.webhook_secret
    if not secret:
        return web.json_response(
            {"error": "Stripe webhooks are not configured on this bot (STRIPE_WEBHOOK_SECRET)"},
            status=503)
    body = await request.read()
    try:
        event = verify_event(body, request.headers.get("Stripe-Signature"), secret)
    except WebhookRejected as rejected:
        log.warning("rejected a Stripe webhook delivery from %s: %s", request.remote, rejected)
        return web.json_response({"error": str(rejected)}, status=400)
    try:
        outcome = await payments.handle_event(event)
    except Exception:
        log.exception("could not apply Stripe event %s (%s); Stripe will retry it", event.id,
                      event.type)
        return web.json_response({"error": "not processed; retry later"}, status=500)
    return web.json_response({"received": True, "status": outcome.status,
                              "detail": outcome.detail})


# ---------------------------------------------------------------- health


async def healthz(request: web.Request) -> web.Response:
    bot = _bot(request)
    try:
        async with bot.services.uow() as uow:
            await uow.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:
        log.warning("health check: the database did not answer: %s", error)
        database = "error"
    body = {
        "status": "ok" if database == "ok" else "error",
        "database": database,
        "discord": "ready" if bot.is_ready() else "not ready",
        "stripe": "configured" if bot.payments.configured else "not configured",
        "version": bot.services.version,
    }
    return web.json_response(body, status=200 if database == "ok" else 503,
                             headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- Checkout return pages

_PAGE: Final = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;
line-height:1.5;color:#1f2328}}h1{{font-size:1.5rem}}</style></head>
<body><h1>{title}</h1>{paragraphs}</body>
</html>
"""


def _booking_ref(request: web.Request) -> str:
    value = request.query.get("booking", "")
    return f" (booking #{html.escape(value)})" if value.isdecimal() and len(value) < 20 else ""


def page(title: str, *paragraphs: str) -> web.Response:
    body = _PAGE.format(title=html.escape(title),
                        paragraphs="".join(f"<p>{p}</p>" for p in paragraphs))
    return web.Response(text=body, content_type="text/html", charset="utf-8",
                        headers=PAGE_HEADERS)


def _package_ref(request: web.Request) -> str | None:
    value = request.query.get("package", "")
    return html.escape(value) if value.isdecimal() and len(value) < 20 else None


async def checkout_success(request: web.Request) -> web.Response:
    if (package := _package_ref(request)) is not None:
        return page("Payment received",
                    f"Thank you! Your package (purchase #{package}) is paid.",
                    "You can close this tab and go back to Discord: your credits appear in "
                    "<code>/packages list</code> in a moment, and <code>/book</code> offers "
                    "them instead of paying.")
    return page("Payment received",
                f"Thank you! Your payment went through{_booking_ref(request)}.",
                "You can close this tab and go back to Discord: Coachbot confirms your "
                "session there and sends you the details by direct message in a moment.")


async def checkout_cancel(request: web.Request) -> web.Response:
    if (package := _package_ref(request)) is not None:
        return page("Payment not completed",
                    f"You left the payment page, so nothing was charged (purchase #{package}).",
                    "Go back to Discord and run <code>/packages buy</code> again whenever "
                    "you like.")
    return page("Payment not completed",
                f"You left the payment page, so nothing was charged{_booking_ref(request)}.",
                "Go back to Discord: your time stays held for you until the hold runs out, "
                "and you can press <b>Pay now</b> again, or run <code>/book</code> to choose "
                "another time.")


async def payouts_done(request: web.Request) -> web.Response:
    """Where Stripe's payout onboarding (`/coach payouts`) sends a coach back."""
    if request.query.get("expired"):
        return page("Link expired",
                    "That Stripe link expired. Go back to Discord and run "
                    "<code>/coach payouts</code> again for a new one.")
    return page("Payout details sent",
                "Go back to Discord. Once Stripe has checked your details, payments for your "
                "sessions go to your account; <code>/coach payouts</code> shows the status.")


# ---------------------------------------------------------------- calendar feeds (issue 9)

FEED_HEADERS: Final = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff",
                       "Referrer-Policy": "no-referrer"}


async def calendar_feed(request: web.Request) -> web.Response:
    """`GET /calendar/{token}.ics`: a member's private feed; 404 (the same for every unknown,
    rotated or malformed token) otherwise."""
    bot = _bot(request)
    async with bot.services.uow() as uow:  # read only
        feed = await feeds.find(uow, request.match_info["token"])
        if feed is None:
            return web.Response(status=404, text="Not found", headers={"Cache-Control": "no-store"})
        guild = bot.get_guild(feed.guild_id)

        def name_of(user_id: int) -> str:
            member = guild.get_member(user_id) if guild is not None else None
            return member.display_name if member is not None else "Student"

        body = await feeds.feed_calendar(
            uow, feed, now=bot.services.clock(), name_of=name_of,
            server_name=guild.name if guild is not None else "Discord")
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers=FEED_HEADERS)


# ---------------------------------------------------------------- the app and the server


def make_app(bot: CoachBot) -> web.Application:
    app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
    app[BOT] = bot
    app.router.add_post("/stripe/webhook", stripe_webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/checkout/success", checkout_success)
    app.router.add_get("/checkout/cancel", checkout_cancel)
    app.router.add_get("/stripe/payouts/done", payouts_done)
    app.router.add_get("/calendar/{token}.ics", calendar_feed)  # issue 9: private feeds
    return app


class WebServer:
    """The app served on `host:port` (port 0 picks a free one; see `port` after `start`)."""

    def __init__(self, bot: CoachBot, *, host: str | None = None,
                 port: int | None = None) -> None:
        settings = bot.services.settings.web
        self.bot = bot
        self.host = settings.host if host is None else host
        self.port = settings.port if port is None else port
        self.app = make_app(bot)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            reason = error.strerror or str(error)
            raise WebServerError(
                f"the web server cannot listen on {self.host}:{self.port} ({reason}). Free "
                "that port or change [web].port in config.toml.") from None
        self._runner = runner
        server = site._server
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info("web server listening on %s (public URL %s)", self.url,
                 self.bot.services.settings.web.public_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def web_server(bot: CoachBot, *, host: str | None = None,
                     port: int | None = None) -> AsyncIterator[WebServer]:
    """Serve while the block runs (the runner wraps the Discord connection in it)."""
    server = WebServer(bot, host=host, port=port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
