"""The payment side of the bot process: the Stripe gateway, the paid `/book` entry point, and
carrying out what the payment use cases ask for (provisioning, refunds, DMs) in background
tasks that the bot tracks.

    started = await bot.payments.book_and_checkout(BookingRequest(...), addon_ids=(...))
    # -> CheckoutStarted: show started.checkout_url as a "Pay now" link button

`bot.payments` is made by `CoachBot.__init__` from the settings (no gateway without Stripe);
tests swap in a gateway on the fake Stripe server with `use_gateway`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import discord

from payments.stripe_gateway import StripeGateway
from scheduling import payments as service
from scheduling.booking import BookingRequest
from scheduling.errors import NotConfigured, NotFound
from scheduling.package_payments import PurchaseStarted, start_purchase
from scheduling.payments import (
    Action,
    CheckoutStarted,
    EventOutcome,
    MaintenanceReport,
    NotifyStudent,
    PaymentEvent,
    PaymentGateway,
    Provision,
    RefundResult,
    SendRefund,
)
from scheduling.series_payments import book_series_and_checkout

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

STRIPE_NOT_CONFIGURED: Final = (
    "Paid sessions are not available: this bot is not connected to Stripe yet. The bot's host "
    "must set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET and restart it."
)


class BotPayments:
    def __init__(self, bot: CoachBot, gateway: PaymentGateway | None = None,
                 webhook_secret: str | None = None) -> None:
        self.bot = bot
        self._gateway = gateway
        self._webhook_secret = webhook_secret
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_settings(cls, bot: CoachBot) -> BotPayments:
        settings = bot.services.settings
        gateway = None
        if settings.stripe_secret_key:
            gateway = StripeGateway.connect(settings.stripe_secret_key.reveal())
        secret = settings.stripe_webhook_secret
        return cls(bot, gateway, secret.reveal() if secret else None)

    def use_gateway(self, gateway: PaymentGateway | None,
                    webhook_secret: str | None = None) -> None:
        """Replace the gateway (tests point it at the fake Stripe server)."""
        self._gateway = gateway
        if webhook_secret is not None:
            self._webhook_secret = webhook_secret

    @property
    def configured(self) -> bool:
        return self._gateway is not None

    @property
    def gateway(self) -> PaymentGateway:
        if self._gateway is None:
            raise NotConfigured(STRIPE_NOT_CONFIGURED)
        return self._gateway

    @property
    def webhook_secret(self) -> str | None:
        return self._webhook_secret

    async def aclose(self) -> None:
        await self.drain()
        close = getattr(self._gateway, "aclose", None)
        if close is not None:
            await close()

    # ------------------------------------------------------------ use cases, wired

    async def book_and_checkout(self, request: BookingRequest, *,
                                addon_ids: Sequence[int] = ()) -> CheckoutStarted:
        """The paid `/book` path: hold the slot (`[booking].hold_minutes`, at least 32) and open
        its Stripe Checkout Session. Raises NotConfigured without Stripe, SlotTaken (with
        alternatives) when the time is gone, InvalidInput, PaymentError subclasses when Stripe
        refuses or is unreachable (the hold is released then: nothing was charged)."""
        services = self.bot.services
        settings = services.settings
        return await service.book_and_checkout(
            services.uow, self.gateway, request, now=services.clock(),
            hold_minutes=settings.booking.hold_minutes, public_url=settings.web.public_url,
            addon_ids=addon_ids)

    async def book_series_and_checkout(self, request: BookingRequest,
                                       starts: Sequence[datetime], *,
                                       addon_ids: Sequence[int] = ()) -> CheckoutStarted:
        """A weekly series paid at once: hold every occurrence, one Checkout Session for all
        (raises TimesUnavailable with the weeks that are not free; nothing is held then)."""
        services = self.bot.services
        settings = services.settings
        return await book_series_and_checkout(
            services.uow, self.gateway, request, starts, now=services.clock(),
            hold_minutes=settings.booking.hold_minutes, public_url=settings.web.public_url,
            addon_ids=addon_ids)

    async def start_package_checkout(self, *, guild_id: int, student_id: int,
                                     package: str) -> PurchaseStarted:
        """`/packages buy`: write the purchase and open its Checkout Session (see
        `scheduling/package_payments.py`). Raises NotConfigured without Stripe (before
        anything is written), NotFound/NotAllowed/Conflict for a package that cannot be
        bought, PaymentError subclasses when Stripe refuses or is unreachable."""
        gateway = self.gateway
        services = self.bot.services
        return await start_purchase(services.uow, gateway, guild_id=guild_id,
                                    student_id=student_id, package=package,
                                    now=services.clock(),
                                    public_url=services.settings.web.public_url)

    async def refund_booking(self, booking_id: int, *, reason: str,
                             amount_minor: int | None = None,
                             full: bool = False) -> RefundResult | None:
        """Refund a paid booking (policy amount unless given) and DM the student in the
        background when the refund is final. None: nothing to refund."""
        services = self.bot.services
        result = await service.refund_booking(services.uow, self.gateway, booking_id,
                                              now=services.clock(), reason=reason,
                                              amount_minor=amount_minor, full=full)
        if result is not None:
            self.spawn(self.carry_out(result.actions), name=f"refund-{result.refund_id}")
        return result

    async def handle_event(self, event: PaymentEvent) -> EventOutcome:
        """Apply a verified Stripe event; its Discord work runs in the background."""
        services = self.bot.services
        outcome = await service.handle_event(services.uow, event, now=services.clock())
        if outcome.actions:
            self.spawn(self.carry_out(outcome.actions), name=f"stripe-{event.id}")
        log.info("stripe event %s (%s): %s %s", event.id, event.type, outcome.status,
                 outcome.detail)
        return outcome

    async def run_maintenance(self) -> MaintenanceReport:
        """Expire due holds and retry refunds (no webhooks needed); awaits the follow-up."""
        if self._gateway is None:
            return MaintenanceReport()
        services = self.bot.services
        report = await service.run_payment_maintenance(services.uow, self._gateway,
                                                       now=services.clock())
        await self.carry_out(report.actions)
        return report

    # ------------------------------------------------------------ background work

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run `work` in a task the bot keeps track of (`drain` awaits them all)."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("payment background task %s failed", task.get_name(),
                      exc_info=task.exception())

    async def drain(self) -> None:
        """Wait until every background task (and those they started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def carry_out(self, actions: Iterable[Action]) -> None:
        """Do what a payment use case asked, in order; a failure is logged, never raised."""
        for action in actions:
            try:
                if isinstance(action, Provision):
                    await self._provision(action.booking_id)
                elif isinstance(action, SendRefund):
                    await self._send_refund(action.refund_id)
                elif isinstance(action, NotifyStudent):
                    await self._notify(action)
            except Exception:
                log.exception("payment follow-up %r failed", action)

    async def _provision(self, booking_id: int) -> None:
        from bot.confirmations import booking_confirmed  # reminders, then the Discord side

        try:
            outcome = await booking_confirmed(self.bot, booking_id)
        except NotFound:
            log.warning("paid booking %s vanished before provisioning", booking_id)
            return
        log.info("booking %s provisioned after payment: %s", booking_id, outcome)

    async def _send_refund(self, refund_id: int) -> None:
        services = self.bot.services
        result = await service.send_refund(services.uow, self.gateway, refund_id,
                                           now=services.clock())
        if not result.sent:
            log.warning("refund %s of booking %s not sent yet: %s", refund_id,
                        result.booking_id, result.message or result.status)
        await self.carry_out(result.actions)

    async def _notify(self, notice: NotifyStudent) -> None:
        user = self.bot.get_user(notice.user_id)
        try:
            if user is None:
                user = await self.bot.fetch_user(notice.user_id)
            await user.send(notice.text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning("could not DM user %s about booking %s (%s): %s", notice.user_id,
                        notice.booking_id, error, notice.text)
