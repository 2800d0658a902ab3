"""Buying a package through Stripe Checkout: the purchase row and its Checkout Session
(`/packages buy`), and the webhook events of that session (`handle_event` in
`scheduling/payments.py` routes them here, inside its transaction).

    started = await start_purchase(uow_factory, gateway, guild_id=g, student_id=s,
                                   package="12", now=now, public_url="https://bot.example")
    result = await apply_checkout_event(uow, event, now)   # the webhook's unit of work

A purchase is written (`pending_payment`) only after every check passed; its session carries
`client_reference_id = package:<id>` and `package_purchase_id` in its metadata. Paid: the
purchase becomes `active` with `credits` usable until `paid_at + valid_days`. A failed delayed
payment marks it `failed`, an unpaid session that runs out `expired`. Replays change nothing
twice (the webhook records event ids; a purchase already paid is left alone).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from scheduling.credits import plural
from scheduling.errors import Conflict, NotAllowed, NotFound
from scheduling.money import Money
from scheduling.packages import (
    NOTICE_AHEAD,
    UNKNOWN_PACKAGE,
    PackageRecord,
    PackageStore,
    PurchaseRecord,
    package_id_of,
)
from scheduling.payments import (
    APPLIED,
    CHECKOUT_ASYNC_FAILED,
    CHECKOUT_ASYNC_SUCCEEDED,
    CHECKOUT_COMPLETED,
    CHECKOUT_EXPIRED,
    IGNORED,
    METADATA_SOURCE,
    CheckoutRequest,
    LineItem,
    NotifyStudent,
    PaymentError,
    PaymentEvent,
    PaymentGateway,
    PaymentRejected,
    checkout_expiry,
    clip_name,
    platform_fee,
)
from scheduling.provisioning import timestamp

PENDING: Final = "pending_payment"
ACTIVE: Final = "active"
FAILED: Final = "failed"
EXPIRED: Final = "expired"
CHECKOUT_MINUTES: Final = 60

OWN_PACKAGE: Final = "That is your own package: coaches cannot buy their own sessions."
OFFERING_GONE: Final = ("**{title}** is not open for booking right now, so its packages are "
                        "not on sale.")


class OfferingRecord(Protocol):
    id: int
    guild_id: int
    coach_id: int
    status: str
    title: str


class CoachRecord(Protocol):
    id: int
    user_id: int
    display_name: str
    stripe_account_id: str | None


class SettingsRecord(Protocol):
    platform_fee_percent: int


class _Getter(Protocol):
    async def get(self, key: int) -> Any: ...


class PackagePaymentsUnitOfWork(Protocol):
    packages: PackageStore
    offerings: _Getter
    coaches: _Getter
    guild_settings: _Getter

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[PackagePaymentsUnitOfWork]]


@dataclass(frozen=True)
class PurchaseStarted:
    """A purchase with its payment page: show `checkout_url` as a link button."""

    purchase_id: int
    title: str
    coach_name: str
    sessions: int
    valid_days: int
    amount: Money
    checkout_url: str
    session_id: str
    expires_at: datetime


@dataclass(frozen=True)
class PackageEventResult:
    status: str  # applied | ignored
    detail: str
    actions: tuple[NotifyStudent, ...] = ()


# ---------------------------------------------------------------- pure helpers


def purchase_key(purchase_id: int) -> str:
    return f"package:{purchase_id}:checkout"


def purchase_urls(public_url: str, purchase_id: int) -> tuple[str, str]:
    base = public_url.rstrip("/")
    return (f"{base}/checkout/success?package={purchase_id}&session_id={{CHECKOUT_SESSION_ID}}",
            f"{base}/checkout/cancel?package={purchase_id}")


def build_purchase_checkout(purchase: PurchaseRecord, package: PackageRecord,
                            offering: OfferingRecord, coach: CoachRecord, *, fee_percent: int,
                            public_url: str, expires_at: datetime,
                            destination: str | None) -> CheckoutRequest:
    """The Checkout Session of a package purchase (pure)."""
    fee = platform_fee(purchase.amount_minor, fee_percent)
    success_url, cancel_url = purchase_urls(public_url, purchase.id)
    metadata = {
        "source": METADATA_SOURCE,
        "package_purchase_id": str(purchase.id),
        "package_id": str(package.id),
        "guild_id": str(purchase.guild_id),
        "offering_id": str(offering.id),
        "coach_id": str(coach.id),
        "student_id": str(purchase.student_id),
        "platform_fee_minor": str(fee),
    }
    if destination:
        metadata["destination"] = destination
    item = LineItem(
        name=clip_name(f"{package.sessions} × {offering.title} with {coach.display_name}"),
        amount_minor=purchase.amount_minor,
        description=clip_name(f"Package of {package.sessions} sessions, valid "
                          f"{plural(package.valid_days, 'day')} after payment"))
    return CheckoutRequest(
        booking_id=None, purchase_id=purchase.id, currency=purchase.currency.upper(),
        line_items=(item,), expires_at=expires_at, success_url=success_url,
        cancel_url=cancel_url, idempotency_key=purchase_key(purchase.id), metadata=metadata,
        application_fee_minor=fee if destination else 0, destination_account=destination,
        description=clip_name(f"Coachbot package #{purchase.id}: {package.sessions} × "
                          f"{offering.title} with {coach.display_name}"))


# ---------------------------------------------------------------- starting a purchase


async def start_purchase(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, *,
                         guild_id: int, student_id: int, package: str, now: datetime,
                         public_url: str) -> PurchaseStarted:
    """Check the package (on sale in this server, of a published offering, not the buyer's
    own), write the purchase (`pending_payment`) and open its Checkout Session. Refusals write
    nothing. When Stripe refuses or cannot be reached, the purchase is marked `failed` and
    the PaymentError is raised (nothing was charged)."""
    package_id = package_id_of(package)
    async with uow_factory(immediate=True) as uow:
        found = await uow.packages.get_package(package_id) if package_id is not None else None
        if found is None or not found.active or found.guild_id != guild_id:
            raise NotFound(UNKNOWN_PACKAGE)
        offering = await uow.offerings.get(found.offering_id)
        coach = await uow.coaches.get(offering.coach_id) if offering is not None else None
        if offering is None or coach is None:
            raise NotFound(UNKNOWN_PACKAGE)
        if coach.user_id == student_id:
            raise NotAllowed(OWN_PACKAGE)
        if offering.status != "published":
            raise Conflict(OFFERING_GONE.format(title=offering.title))
        settings = await uow.guild_settings.get(guild_id)
        fee_percent = settings.platform_fee_percent if settings else 0
        purchase = await uow.packages.add_purchase(
            guild_id=guild_id, package_id=found.id, offering_id=offering.id,
            student_id=student_id, credits=found.sessions, status=PENDING,
            amount_minor=found.price_minor, currency=found.currency,
            platform_fee_minor=platform_fee(found.price_minor, fee_percent))
        await uow.commit()
    try:
        destination = coach.stripe_account_id or None
        if destination and not await gateway.account_ready(destination):
            destination = None  # onboarding unfinished: the server keeps it and owes the coach
        expires_at = checkout_expiry(now + timedelta(minutes=CHECKOUT_MINUTES), now)
        request = build_purchase_checkout(purchase, found, offering, coach,
                                          fee_percent=fee_percent, public_url=public_url,
                                          expires_at=expires_at, destination=destination)
        state = await gateway.create_checkout(request)
        if not state.url:
            raise PaymentRejected("Stripe opened the payment page without a link. Nothing was "
                                  "charged. Try again in a minute.")
    except PaymentError:
        await _mark(uow_factory, purchase.id, FAILED)
        raise
    async with uow_factory(immediate=True) as uow:
        current = await uow.packages.lock_purchase(purchase.id)
        if current is not None and current.checkout_session_id is None:
            await uow.packages.update_purchase(current, checkout_session_id=state.session_id,
                                               destination_account=destination)
        await uow.commit()
    return PurchaseStarted(
        purchase_id=purchase.id, title=offering.title, coach_name=coach.display_name,
        sessions=found.sessions, valid_days=found.valid_days,
        amount=Money(found.price_minor, found.currency), checkout_url=state.url,
        session_id=state.session_id, expires_at=state.expires_at or expires_at)


async def _mark(uow_factory: UnitOfWorkFactory, purchase_id: int, status: str) -> None:
    with suppress(Exception):  # best effort: an unpaid purchase gives no credits anyway
        async with uow_factory(immediate=True) as uow:
            current = await uow.packages.lock_purchase(purchase_id)
            if current is not None and current.status == PENDING:
                await uow.packages.update_purchase(current, status=status)
            await uow.commit()


# ---------------------------------------------------------------- webhook events


def ready_text(credits: int, title: str, expires_at: datetime) -> str:
    return (f"Your {plural(credits)} for **{title}** are ready: use them with `/book`. They "
            f"expire {timestamp(expires_at, 'D')} ({timestamp(expires_at, 'R')}); see them "
            "any time with `/packages`.")


def failed_text(title: str) -> str:
    return (f"The payment for your **{title}** package did not go through, so no credits "
            "were added and nothing was charged. Try again with `/packages buy`.")


async def apply_checkout_event(uow: Any, event: PaymentEvent,
                               now: datetime) -> PackageEventResult:
    """Apply a package purchase's Checkout event inside the webhook's transaction (no
    commit): paid -> `active` (credits usable until paid_at + valid_days) and a DM; failed
    -> `failed` (DM); expired unpaid -> `expired`. A purchase that is paid already stays as
    it is, so replays and late duplicates change nothing."""
    state = event.checkout
    if state is None or state.purchase_id is None:
        return PackageEventResult(IGNORED, "not a package checkout")
    purchase = await uow.packages.lock_purchase(state.purchase_id)
    if purchase is None:
        return PackageEventResult(IGNORED, f"package purchase {state.purchase_id} is unknown")
    if purchase.checkout_session_id not in (None, state.session_id):
        return PackageEventResult(IGNORED, "a different session of that purchase")
    if purchase.checkout_session_id is None:  # the process stopped before recording it
        await uow.packages.update_purchase(purchase, checkout_session_id=state.session_id)
    if event.type in (CHECKOUT_COMPLETED, CHECKOUT_ASYNC_SUCCEEDED):
        return await _paid(uow, purchase, event, now)
    if purchase.paid_at is not None or purchase.status != PENDING:
        return PackageEventResult(APPLIED, f"purchase already {purchase.status}")
    if event.type == CHECKOUT_ASYNC_FAILED:
        await uow.packages.update_purchase(purchase, status=FAILED)
        title = await _title(uow, purchase.offering_id)
        return PackageEventResult(APPLIED, "package payment failed",
                                  (NotifyStudent(purchase.student_id, None,
                                                 failed_text(title)),))
    if event.type == CHECKOUT_EXPIRED:
        await uow.packages.update_purchase(purchase, status=EXPIRED)
        return PackageEventResult(APPLIED, "package checkout expired unpaid")
    return PackageEventResult(IGNORED, "not a checkout event")


async def _paid(uow: Any, purchase: Any, event: PaymentEvent,
                now: datetime) -> PackageEventResult:
    state = event.checkout
    assert state is not None
    if purchase.paid_at is not None:
        return PackageEventResult(APPLIED, "package payment already recorded")
    if not state.paid:
        if state.payment_intent_id and not purchase.payment_intent_id:
            await uow.packages.update_purchase(purchase,
                                               payment_intent_id=state.payment_intent_id)
        return PackageEventResult(APPLIED, "checkout complete, payment still processing")
    package = await uow.packages.get_package(purchase.package_id)
    if package is None:
        return PackageEventResult(IGNORED, f"package {purchase.package_id} is unknown")
    expires_at = now + timedelta(days=package.valid_days)
    amount = state.amount_total if state.amount_total is not None else purchase.amount_minor
    fields: dict[str, Any] = {
        "status": ACTIVE, "paid_at": now, "expires_at": expires_at,
        "payment_intent_id": state.payment_intent_id or purchase.payment_intent_id,
        "amount_minor": amount,
        "platform_fee_minor": min(purchase.platform_fee_minor, amount),
    }
    if timedelta(days=package.valid_days) <= NOTICE_AHEAD:
        fields["expiry_notice_sent_at"] = now  # the DM below already says when they expire
    await uow.packages.update_purchase(purchase, **fields)
    title = await _title(uow, purchase.offering_id)
    return PackageEventResult(APPLIED, f"package paid; {plural(purchase.credits)} active",
                              (NotifyStudent(purchase.student_id, None,
                                             ready_text(purchase.credits, title, expires_at)),))


async def _title(uow: Any, offering_id: int) -> str:
    offering = await uow.offerings.get(offering_id)
    return offering.title if offering is not None else "your sessions"
