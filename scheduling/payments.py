"""Paying for bookings: Checkout for a held slot, the provider's events, hold expiry, refunds.

Pure: the payment provider is reached through the `PaymentGateway` port (`payments/` implements
it over Stripe) and storage through the `PaymentUnitOfWork` protocols. Every use case returns
what the caller must still do outside the database (`Provision`, `SendRefund`,
`NotifyStudent`), so the web layer and the cogs stay thin.

    started = await book_and_checkout(uow_factory, gateway, request, now=now,
                                      hold_minutes=30, public_url="https://bot.example")
    outcome = await handle_event(uow_factory, event, now=now)   # a verified webhook event
    outcomes = await run_payment_maintenance(uow_factory, gateway, now=now)  # every minute
    result = await refund_booking(uow_factory, gateway, booking_id, now=now, reason="...")

Rules that keep money safe:

- A booking is confirmed only from a payment the provider reports as paid (webhook, or the
  provider's own answer when a hold is expired); each webhook event id is recorded in the same
  transaction as its effect, so replays and duplicates change nothing twice.
- Payment arriving after the hold ran out confirms the booking if the time is still free,
  otherwise the whole payment is refunded automatically (once: a refund never exceeds what is
  left to refund) and the student is told, with the nearest free times.
- Provider calls happen outside database transactions. A refund row (with its idempotency key)
  is committed before the provider is asked, so a crash or an outage leaves a row that the
  maintenance pass sends later, after checking the provider did not get the first attempt.
- If the provider cannot be reached when a checkout starts, the hold is released at once
  (nothing was charged; the student simply tries again) rather than blocking the slot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Final, Protocol

from scheduling import payment_texts as texts
from scheduling.booking import BookingRecord, BookingRequest, alternatives_to, book, confirm_held
from scheduling.errors import Conflict, DomainError, InvalidInput, NotFound, SlotTaken
from scheduling.money import Money
from scheduling.policy import DEFAULT_POLICY, Policy

# ---------------------------------------------------------------- constants

# Stripe accepts a Checkout Session `expires_at` 30 minutes to 24 hours after creation.
MIN_CHECKOUT_LIFETIME: Final = timedelta(minutes=30)
MAX_CHECKOUT_LIFETIME: Final = timedelta(hours=24)
# Slack for the time between our clock reading and the provider receiving the request.
CLOCK_MARGIN: Final = timedelta(minutes=2)
# The shortest hold a paid booking gets, so that its Checkout Session can expire with it.
MIN_HOLD: Final = MIN_CHECKOUT_LIFETIME + CLOCK_MARGIN

PROVIDER_NAME_LIMIT: Final = 250
METADATA_SOURCE: Final = "coachbot"

# payments.status
PAYMENT_PENDING: Final = "pending"
PAYMENT_PAID: Final = "paid"
PAYMENT_FAILED: Final = "failed"
PAYMENT_EXPIRED: Final = "expired"
PAYMENT_REFUNDED: Final = "refunded"
PAYMENT_PARTIALLY_REFUNDED: Final = "partially_refunded"
SETTLED_PAYMENT_STATUSES: Final = frozenset(
    {PAYMENT_PAID, PAYMENT_REFUNDED, PAYMENT_PARTIALLY_REFUNDED})

# refunds.status (Stripe's own values)
REFUND_PENDING: Final = "pending"
REFUND_REQUIRES_ACTION: Final = "requires_action"
REFUND_SUCCEEDED: Final = "succeeded"
REFUND_FAILED: Final = "failed"
REFUND_CANCELED: Final = "canceled"
FINAL_REFUND_STATUSES: Final = frozenset({REFUND_SUCCEEDED, REFUND_FAILED, REFUND_CANCELED})
# A refund's status only moves forward; succeeded -> failed happens (the bank returned it).
_REFUND_NEXT: Final[Mapping[str, frozenset[str]]] = {
    REFUND_PENDING: frozenset({REFUND_REQUIRES_ACTION, *FINAL_REFUND_STATUSES}),
    REFUND_REQUIRES_ACTION: FINAL_REFUND_STATUSES,
    REFUND_SUCCEEDED: frozenset({REFUND_FAILED}),
    REFUND_FAILED: frozenset(),
    REFUND_CANCELED: frozenset(),
}
# Refunds that take (or took) money back from the payment.
_COUNTED_REFUND_STATUSES: Final = frozenset({REFUND_PENDING, REFUND_REQUIRES_ACTION,
                                             REFUND_SUCCEEDED})

# Reasons stored on refunds (shown to admins; the first one also picks the student's notice).
REASON_SLOT_TAKEN: Final = ("automatic: the payment arrived after the hold ran out and the time "
                            "had been booked by someone else")
REASON_BOOKING_CLOSED: Final = "automatic: the booking was {status} before the payment arrived"
REASON_EXTERNAL: Final = "made outside Coachbot (Stripe Dashboard)"

# Checkout Session states (Stripe's values)
SESSION_OPEN: Final = "open"
SESSION_COMPLETE: Final = "complete"
SESSION_EXPIRED: Final = "expired"
PAID_STATES: Final = frozenset({"paid", "no_payment_required"})

# Events handled by `handle_event`
CHECKOUT_COMPLETED: Final = "checkout.session.completed"
CHECKOUT_ASYNC_SUCCEEDED: Final = "checkout.session.async_payment_succeeded"
CHECKOUT_ASYNC_FAILED: Final = "checkout.session.async_payment_failed"
CHECKOUT_EXPIRED: Final = "checkout.session.expired"
CHARGE_REFUNDED: Final = "charge.refunded"
REFUND_CREATED: Final = "refund.created"
REFUND_UPDATED: Final = "refund.updated"
REFUND_FAILED_EVENT: Final = "refund.failed"
HANDLED_EVENTS: Final = frozenset({
    CHECKOUT_COMPLETED, CHECKOUT_ASYNC_SUCCEEDED, CHECKOUT_ASYNC_FAILED, CHECKOUT_EXPIRED,
    CHARGE_REFUNDED, REFUND_CREATED, REFUND_UPDATED, REFUND_FAILED_EVENT,
})

# ---------------------------------------------------------------- errors


class PaymentError(DomainError):
    """The payment provider could not do what was asked; the message says what happens now."""

    retryable: bool = False


class PaymentsUnavailable(PaymentError):
    """The provider cannot be reached (network, outage, rate limit): try again later."""

    retryable = True


class PaymentRejected(PaymentError):
    """The provider refused the request (bad parameters, a refund that is not possible, ...)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class PaymentsMisconfigured(PaymentError):
    """The provider refused the bot's credentials or account (the host must fix the setup)."""


CHECKOUT_UNAVAILABLE: Final = ("Payments are unreachable right now; nothing was charged. "
                               "Try again in a minute.")
REFUND_UNAVAILABLE: Final = ("Payments are unreachable right now, so the refund has not been "
                             "sent yet. Coachbot sends it automatically once Stripe answers.")
FREE_BOOKING: Final = ("This session costs nothing, so there is nothing to pay: book it "
                       "without checkout.")
HOLD_GONE: Final = ("Your hold on this time ran out before the payment page was ready. Run "
                    "`/book` again to pick a time.")

# ---------------------------------------------------------------- values crossing the port


@dataclass(frozen=True)
class LineItem:
    name: str
    amount_minor: int
    quantity: int = 1
    description: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    """One Checkout Session for one booking (or, with `purchase_id`, for a package purchase;
    all amounts in `currency` minor units)."""

    booking_id: int | None
    currency: str
    line_items: tuple[LineItem, ...]
    expires_at: datetime
    success_url: str
    cancel_url: str
    idempotency_key: str
    metadata: Mapping[str, str]
    allow_promotion_codes: bool = False
    application_fee_minor: int = 0
    destination_account: str | None = None
    description: str | None = None
    purchase_id: int | None = None

    @property
    def client_reference(self) -> str:
        """`client_reference_id`: the booking's id, or `package:<purchase id>`."""
        if self.purchase_id is not None:
            return f"package:{self.purchase_id}"
        return str(self.booking_id)

    @property
    def total_minor(self) -> int:
        return sum(item.amount_minor * item.quantity for item in self.line_items)


@dataclass(frozen=True)
class CheckoutState:
    """What the provider says about a Checkout Session."""

    session_id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    url: str | None = None
    booking_id: int | None = None
    payment_intent_id: str | None = None
    amount_total: int | None = None
    currency: str | None = None
    expires_at: datetime | None = None
    purchase_id: int | None = None  # a package purchase's checkout (no booking)

    @property
    def paid(self) -> bool:
        return self.status == SESSION_COMPLETE and self.payment_status in PAID_STATES


@dataclass(frozen=True)
class RefundRequest:
    payment_intent_id: str
    amount_minor: int
    idempotency_key: str
    reverse_transfer: bool = False
    refund_application_fee: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundState:
    """What the provider says about a refund (`refund_key`: our idempotency key, kept in the
    refund's metadata, so a refund is found even before its provider id was stored)."""

    refund_id: str
    status: str
    amount_minor: int
    currency: str | None = None
    payment_intent_id: str | None = None
    failure_reason: str | None = None
    refund_key: str | None = None


@dataclass(frozen=True)
class ChargeState:
    payment_intent_id: str | None
    amount_minor: int
    amount_refunded_minor: int
    refunds: tuple[RefundState, ...] = ()


@dataclass(frozen=True)
class PaymentEvent:
    """A verified provider event, reduced to what Coachbot reads."""

    id: str
    type: str
    checkout: CheckoutState | None = None
    refund: RefundState | None = None
    charge: ChargeState | None = None


class PaymentGateway(Protocol):
    """The payment provider. Every method raises `PaymentError` subclasses only."""

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutState: ...

    async def get_checkout(self, session_id: str) -> CheckoutState: ...

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        """Expire an open session; a session that is not open any more is returned as is."""
        ...

    async def create_refund(self, request: RefundRequest) -> RefundState: ...

    async def get_refund(self, refund_id: str) -> RefundState: ...

    async def find_refund(self, payment_intent_id: str, refund_key: str) -> RefundState | None:
        """The refund of that payment made with our `refund_key`, if the provider has one."""
        ...

    async def account_ready(self, account_id: str) -> bool:
        """Whether a coach's connected account can receive transfers now."""
        ...


# ---------------------------------------------------------------- what callers do next


@dataclass(frozen=True)
class Provision:
    """The booking was just confirmed: give the student their role, channel and DMs."""

    booking_id: int


@dataclass(frozen=True)
class SendRefund:
    """A refund row is committed: ask the provider for it (`send_refund`), off the request."""

    refund_id: int


@dataclass(frozen=True)
class NotifyStudent:
    """DM `user_id` this text (it mentions nobody)."""

    user_id: int
    booking_id: int | None  # None: about a package purchase
    text: str


Action = Provision | SendRefund | NotifyStudent

APPLIED: Final = "applied"
DUPLICATE: Final = "duplicate"
IGNORED: Final = "ignored"


@dataclass(frozen=True)
class EventOutcome:
    event_id: str
    event_type: str
    status: str  # applied | duplicate | ignored
    detail: str = ""
    booking_id: int | None = None
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class CheckoutStarted:
    """A held booking with its payment page. Show `checkout_url` as a link button."""

    booking_id: int
    start_at: datetime
    checkout_url: str
    session_id: str
    expires_at: datetime
    amount: Money
    line_items: tuple[LineItem, ...]


@dataclass(frozen=True)
class RefundResult:
    refund_id: int
    booking_id: int
    amount: Money
    status: str
    sent: bool
    message: str = ""
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class HoldOutcome:
    booking_id: int
    result: str  # released | paid | waiting | retry
    actions: tuple[Action, ...] = ()


# ---------------------------------------------------------------- storage protocols


class OfferingRecord(Protocol):
    id: int
    guild_id: int
    coach_id: int
    title: str
    price_minor: int
    currency: str
    duration_minutes: int
    allow_promotion_codes: bool
    policy: dict[str, Any] | None


class CoachRecord(Protocol):
    id: int
    user_id: int
    display_name: str
    stripe_account_id: str | None


class GuildSettingsRecord(Protocol):
    platform_fee_percent: int
    default_policy: dict[str, Any]


class AddonRecord(Protocol):
    id: int
    offering_id: int
    name: str
    price_minor: int
    extra_minutes: int


class PaymentRecord(Protocol):
    id: int
    booking_id: int
    checkout_session_id: str | None
    payment_intent_id: str | None
    amount_minor: int
    currency: str
    status: str
    platform_fee_minor: int
    destination_account: str | None
    series_id: str | None


class RefundRecord(Protocol):
    id: int
    payment_id: int
    provider_refund_id: str | None
    idempotency_key: str
    amount_minor: int
    status: str
    reason: str | None
    created_at: datetime


class DueHold(Protocol):
    booking: BookingRecord
    payment: PaymentRecord | None


class Payments(Protocol):
    async def add(self, **fields: Any) -> PaymentRecord: ...

    async def get(self, payment_id: int) -> PaymentRecord | None: ...

    async def update(self, payment: PaymentRecord, **fields: Any) -> PaymentRecord: ...

    async def for_booking(self, booking_id: int) -> PaymentRecord | None: ...

    async def by_checkout_session(self, session_id: str) -> PaymentRecord | None: ...

    async def by_payment_intent(self, payment_intent_id: str) -> PaymentRecord | None: ...

    async def of_series(self, series_id: str) -> Sequence[PaymentRecord]: ...

    async def add_refund(self, **fields: Any) -> RefundRecord: ...

    async def update_refund(self, refund: RefundRecord, **fields: Any) -> RefundRecord: ...

    async def get_refund(self, refund_id: int) -> RefundRecord | None: ...

    async def refund_by_provider_id(self, provider_refund_id: str) -> RefundRecord | None: ...

    async def refund_by_key(self, idempotency_key: str) -> RefundRecord | None: ...

    async def refunds_of(self, payment_id: int) -> Sequence[RefundRecord]: ...

    async def next_refund_number(self, booking_id: int) -> int: ...

    async def addons(self, offering_id: int) -> Sequence[AddonRecord]: ...

    async def lock_booking(self, booking_id: int) -> BookingRecord | None: ...

    async def due_holds(self, now: datetime, limit: int) -> Sequence[DueHold]: ...

    async def unsent_refunds(self, limit: int) -> Sequence[RefundRecord]: ...

    async def unsettled_refunds(self, before: datetime, limit: int) -> Sequence[RefundRecord]:
        ...


class PaymentBookings(Protocol):
    async def get(self, booking_id: int) -> BookingRecord | None: ...

    async def in_series(self, series_id: str) -> Sequence[BookingRecord]: ...

    async def lock_coach(self, coach_id: int) -> None: ...

    async def overlapping_active(self, coach_id: int, start: datetime,
                                 end: datetime) -> Sequence[BookingRecord]: ...

    async def record_status(self, booking_id: int, from_status: str | None, to_status: str,
                            *, at: datetime, actor_id: int | None,
                            reason: str | None = None) -> None: ...


class PaymentOfferings(Protocol):
    async def get(self, offering_id: int) -> OfferingRecord | None: ...


class PaymentCoaches(Protocol):
    async def get(self, coach_id: int) -> CoachRecord | None: ...


class PaymentGuildSettings(Protocol):
    async def get(self, guild_id: int) -> GuildSettingsRecord | None: ...


class WebhookEvents(Protocol):
    async def record(self, event_id: str, type: str,
                     received_at: datetime | None = None) -> bool: ...


class PaymentUnitOfWork(Protocol):
    payments: Payments
    bookings: PaymentBookings
    offerings: PaymentOfferings
    coaches: PaymentCoaches
    guild_settings: PaymentGuildSettings
    webhook_events: WebhookEvents

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[PaymentUnitOfWork]]


class _Lent:
    """The caller's open unit of work, lent to a use case that opens and commits its own
    (`confirm_held`): its work joins the caller's transaction, which the caller commits."""

    def __init__(self, uow: PaymentUnitOfWork) -> None:
        self._uow = uow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    async def commit(self) -> None:
        """The lender commits."""

    async def __aenter__(self) -> _Lent:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, traceback: TracebackType | None) -> None:
        return None


def _lend(uow: PaymentUnitOfWork) -> Callable[..., _Lent]:
    return lambda **_: _Lent(uow)


# ---------------------------------------------------------------- small pure helpers


def platform_fee(total_minor: int, percent: int) -> int:
    """The server's cut, rounded down to a whole minor unit."""
    return total_minor * percent // 100


def checkout_expiry(hold_expires_at: datetime, now: datetime) -> datetime:
    """When the Checkout Session (and the hold) ends: the hold's end, moved into the range the
    provider accepts (30 min to 24 h after creation, with a margin), in whole seconds."""
    earliest = now + MIN_HOLD
    latest = now + MAX_CHECKOUT_LIFETIME - CLOCK_MARGIN
    chosen = min(max(hold_expires_at, earliest), latest)
    if chosen.microsecond:
        chosen = chosen.replace(microsecond=0) + timedelta(seconds=1)
    return chosen.astimezone(UTC)


def checkout_key(booking_id: int) -> str:
    return f"booking:{booking_id}:checkout"


def refund_key(booking_id: int, number: int) -> str:
    return f"booking:{booking_id}:refund:{number}"


def return_urls(public_url: str, booking_id: int) -> tuple[str, str]:
    """Where Checkout sends the student back (the bot's own success and cancel pages)."""
    base = public_url.rstrip("/")
    return (f"{base}/checkout/success?booking={booking_id}&session_id={{CHECKOUT_SESSION_ID}}",
            f"{base}/checkout/cancel?booking={booking_id}")


def clip_name(text: str, limit: int = PROVIDER_NAME_LIMIT) -> str:
    """`text` cut to what the provider accepts for names and descriptions."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_items_for(booking: BookingRecord, offering: OfferingRecord, coach: CoachRecord,
                   addons: Sequence[AddonRecord]) -> tuple[LineItem, ...]:
    start = booking.start_at.astimezone(UTC)
    session = LineItem(
        name=clip_name(f"{offering.title} with {coach.display_name}"),
        amount_minor=offering.price_minor,
        description=clip_name(f"Booking #{booking.id}: {offering.duration_minutes}-minute session "
                          f"on {start:%a %d %b %Y, %H:%M} UTC"),
    )
    extras = tuple(LineItem(name=clip_name(addon.name), amount_minor=addon.price_minor,
                            description=f"Add-on for booking #{booking.id}")
                   for addon in addons)
    return (session, *extras)


def choose_addons(available: Sequence[AddonRecord], chosen_ids: Sequence[int],
                  booking: BookingRecord, offering: OfferingRecord) -> list[AddonRecord]:
    """The chosen add-ons of this offering, in the offering's order; unknown ids refused, and
    add-ons with extra minutes only when the booking really is that much longer."""
    by_id = {addon.id: addon for addon in available}
    unknown = [i for i in chosen_ids if i not in by_id]
    if unknown:
        raise InvalidInput("One of the add-ons you picked is not offered with this session any "
                           "more. Run `/book` again to see the current add-ons.")
    picked = [addon for addon in available if addon.id in set(chosen_ids)]
    extra = sum(addon.extra_minutes for addon in picked)
    booked = (booking.end_at - booking.start_at) // timedelta(minutes=1)
    if extra and booked < offering.duration_minutes + extra:
        raise InvalidInput("That add-on makes the session longer, but the booked time does not "
                           "include the extra minutes. Pick a time that allows for them.")
    return picked


def build_checkout(booking: BookingRecord, offering: OfferingRecord, coach: CoachRecord,
                   addons: Sequence[AddonRecord], *, fee_percent: int, public_url: str,
                   expires_at: datetime, destination: str | None = None) -> CheckoutRequest:
    """The Checkout Session of a held booking (pure: everything comes in as arguments).
    `destination`: the coach's connected account, when it can receive transfers."""
    items = line_items_for(booking, offering, coach, addons)
    total = sum(item.amount_minor * item.quantity for item in items)
    fee = platform_fee(total, fee_percent)
    success_url, cancel_url = return_urls(public_url, booking.id)
    metadata = {
        "source": METADATA_SOURCE,
        "booking_id": str(booking.id),
        "guild_id": str(booking.guild_id),
        "offering_id": str(offering.id),
        "coach_id": str(coach.id),
        "student_id": str(booking.student_id),
        "platform_fee_minor": str(fee),
    }
    if addons:
        metadata["addon_ids"] = ",".join(str(addon.id) for addon in addons)
    if destination:
        metadata["destination"] = destination
    return CheckoutRequest(
        booking_id=booking.id,
        currency=offering.currency.upper(),
        line_items=items,
        expires_at=expires_at,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=checkout_key(booking.id),
        metadata=metadata,
        allow_promotion_codes=bool(offering.allow_promotion_codes),
        application_fee_minor=fee if destination else 0,
        destination_account=destination,
        description=clip_name(f"Coachbot booking #{booking.id}: {offering.title} with "
                          f"{coach.display_name}"),
    )


def policy_for(offering: OfferingRecord | None, settings: GuildSettingsRecord | None) -> Policy:
    if offering is not None and offering.policy:
        return Policy.from_dict(offering.policy)
    if settings is not None and settings.default_policy:
        return Policy.from_dict(settings.default_policy)
    return DEFAULT_POLICY


# ---------------------------------------------------------------- starting a checkout


async def book_and_checkout(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway,
                            request: BookingRequest, *, now: datetime, hold_minutes: int,
                            public_url: str, addon_ids: Sequence[int] = ()) -> CheckoutStarted:
    """The paid `/book` path: hold the slot, then open its Checkout Session.

    Raises SlotTaken (with alternatives) when the time is gone, InvalidInput for a free
    session or unknown add-ons, and PaymentError when the provider refuses or cannot be
    reached; in every failure after the hold was placed the hold is released again (nothing
    was charged, the slot is free for the next try).
    """
    async with uow_factory() as uow:
        offering = await uow.offerings.get(request.offering_id)
        if offering is not None:
            chosen = [a for a in await uow.payments.addons(offering.id) if a.id in set(addon_ids)]
            total = offering.price_minor + sum(a.price_minor for a in chosen)
            if total <= 0:
                raise InvalidInput(FREE_BOOKING)
            # Add-ons that add time are held as part of the session, not after it.
            request = replace(request, extra_minutes=sum(a.extra_minutes for a in chosen))
    hold = max(timedelta(minutes=hold_minutes), MIN_HOLD)
    booking = await book(uow_factory, request, now=now, hold=hold)
    try:
        return await start_checkout(uow_factory, gateway, booking.id, now=now,
                                    public_url=public_url, addon_ids=addon_ids)
    except Exception:
        await release_hold(uow_factory, booking.id, now=now,
                           reason="the payment page could not be opened")
        raise


async def start_checkout(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway,
                         booking_id: int, *, now: datetime, public_url: str,
                         addon_ids: Sequence[int] = ()) -> CheckoutStarted:
    """Open (or reopen) the Checkout Session of a held booking and record its payment row.

    Safe to repeat: a booking whose session is already recorded gets that session back, and
    the idempotency key `booking:{id}:checkout` makes the provider return the same session if
    two calls race.
    """
    async with uow_factory() as uow:
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"Booking #{booking_id} does not exist.")
        existing = await uow.payments.for_booking(booking_id)
        if existing is None or not existing.checkout_session_id:
            existing = None
            if booking.status != "pending_payment" or (booking.expires_at is not None
                                                       and booking.expires_at <= now):
                raise Conflict(HOLD_GONE)
            offering = await uow.offerings.get(booking.offering_id)
            coach = await uow.coaches.get(booking.coach_id)
            if offering is None or coach is None:
                raise NotFound(f"Booking #{booking_id} has no offering or coach any more.")
            settings = await uow.guild_settings.get(booking.guild_id)
            addons = choose_addons(await uow.payments.addons(offering.id), addon_ids, booking,
                                   offering)
    if existing is not None:  # opened before: the same session again (outside the transaction)
        return await _reopen(gateway, booking, existing)
    hold_end = booking.expires_at or now
    expires_at = checkout_expiry(hold_end, now)
    destination = coach.stripe_account_id or None
    if destination and not await gateway.account_ready(destination):
        destination = None  # onboarding unfinished: the server keeps it and owes the coach
    request = build_checkout(booking, offering, coach, addons,
                             fee_percent=settings.platform_fee_percent if settings else 0,
                             public_url=public_url, expires_at=expires_at,
                             destination=destination)
    if request.total_minor <= 0:
        raise InvalidInput(FREE_BOOKING)
    state = await gateway.create_checkout(request)

    async with uow_factory(immediate=True) as uow:
        current = await uow.payments.lock_booking(booking_id)
        if current is None or current.status != "pending_payment":
            gone = True
        else:
            gone = False
            if await uow.payments.by_checkout_session(state.session_id) is None:
                await uow.payments.add(
                    booking_id=booking_id, checkout_session_id=state.session_id,
                    amount_minor=request.total_minor, currency=request.currency,
                    status=PAYMENT_PENDING,
                    platform_fee_minor=platform_fee(request.total_minor,
                                                    settings.platform_fee_percent
                                                    if settings else 0),
                    destination_account=request.destination_account)
            current.expires_at = state.expires_at or expires_at
            await uow.commit()
    if gone:
        await expire_quietly(gateway, state.session_id)
        raise Conflict(HOLD_GONE)
    if not state.url:
        raise PaymentRejected("Stripe opened the payment page without a link. Nothing was "
                              "charged. Try again in a minute.")
    return CheckoutStarted(booking_id=booking_id, start_at=booking.start_at,
                           checkout_url=state.url, session_id=state.session_id,
                           expires_at=state.expires_at or expires_at,
                           amount=Money(request.total_minor, request.currency),
                           line_items=request.line_items)


async def _reopen(gateway: PaymentGateway, booking: BookingRecord,
                  payment: PaymentRecord) -> CheckoutStarted:
    assert payment.checkout_session_id is not None
    if payment.status in SETTLED_PAYMENT_STATUSES:
        raise Conflict(f"Booking #{booking.id} is paid already.")
    state = await gateway.get_checkout(payment.checkout_session_id)
    if state.status != SESSION_OPEN or not state.url:
        raise Conflict(HOLD_GONE)
    return CheckoutStarted(booking_id=booking.id, start_at=booking.start_at,
                           checkout_url=state.url, session_id=state.session_id,
                           expires_at=state.expires_at or booking.expires_at or booking.start_at,
                           amount=Money(payment.amount_minor, payment.currency), line_items=())


async def expire_quietly(gateway: PaymentGateway, session_id: str) -> None:
    # Failing that, it expires on its own at the hold's end; maintenance retries it too.
    with suppress(PaymentError):
        await gateway.expire_checkout(session_id)


async def release_hold(uow_factory: UnitOfWorkFactory, booking_id: int, *, now: datetime,
                       reason: str) -> bool:
    """Free a held slot now (booking `pending_payment` -> `expired`); False if not held."""
    async with uow_factory(immediate=True) as uow:
        booking = await uow.payments.lock_booking(booking_id)
        if booking is None or booking.status != "pending_payment":
            return False
        await _expire_booking(uow, booking, now, reason)
        await uow.commit()
        return True


async def _expire_booking(uow: PaymentUnitOfWork, booking: BookingRecord, now: datetime,
                          reason: str) -> None:
    booking.status = "expired"
    await uow.bookings.record_status(booking.id, "pending_payment", "expired", at=now,
                                     actor_id=None, reason=reason)


# ---------------------------------------------------------------- provider events


@dataclass(frozen=True)
class _Notice:
    """A message for the student, worded after the commit from the stored state (some need
    the nearest free times, read through a fresh unit of work).

    kinds: `payment_failed`, `late_no_refund`, `late_refund` (with `refund_id`)."""

    kind: str
    booking_id: int
    refund_id: int | None = None


Pending = Action | _Notice


@dataclass
class _Applied:
    status: str
    detail: str
    booking_id: int | None = None
    actions: list[Pending] = field(default_factory=list)


async def handle_event(uow_factory: UnitOfWorkFactory, event: PaymentEvent, *,
                       now: datetime) -> EventOutcome:
    """Apply one verified provider event exactly once: its id is recorded in the same
    transaction as its effect. Unknown event types and objects that are not Coachbot's are
    ignored; a duplicate (or a replay) changes nothing."""
    handler = _HANDLERS.get(event.type)
    if event.checkout is not None and event.checkout.purchase_id is not None:
        handler = _package_checkout if handler in _CHECKOUT_HANDLERS else None
    if handler is None:
        return EventOutcome(event.id, event.type, IGNORED, "not an event Coachbot uses")
    async with uow_factory(immediate=True) as uow:
        if not await uow.webhook_events.record(event.id, event.type, now):
            return EventOutcome(event.id, event.type, DUPLICATE, "already processed")
        applied = await handler(uow, event, now)
        await uow.commit()
    actions = await _word(uow_factory, applied.actions, now=now)
    return EventOutcome(event.id, event.type, applied.status, applied.detail,
                        applied.booking_id, actions)


async def _checkout_settled(uow: PaymentUnitOfWork, event: PaymentEvent,
                            now: datetime) -> _Applied:
    """`completed` (paid, or unpaid while a delayed payment processes) and
    `async_payment_succeeded`."""
    state = event.checkout
    if state is None or state.booking_id is None:
        return _Applied(IGNORED, "not a Coachbot checkout")
    booking = await uow.payments.lock_booking(state.booking_id)
    if booking is None:
        return _Applied(IGNORED, f"booking {state.booking_id} is unknown")
    payment = await _payment_for_session(uow, booking, state)
    if not state.paid:
        if payment.status == PAYMENT_PENDING and state.payment_intent_id:
            await uow.payments.update(payment, payment_intent_id=state.payment_intent_id)
        return _Applied(APPLIED, "checkout complete, payment still processing", booking.id)
    return await _settle_paid(uow, booking, payment, state, now)


async def _payment_for_session(uow: PaymentUnitOfWork, booking: BookingRecord,
                               state: CheckoutState) -> PaymentRecord:
    """The session's payment row; recreated from the provider's data when the process stopped
    between opening the session and recording it."""
    payment = await uow.payments.by_checkout_session(state.session_id)
    if payment is not None:
        return payment
    return await uow.payments.add(
        booking_id=booking.id, checkout_session_id=state.session_id,
        payment_intent_id=state.payment_intent_id, amount_minor=state.amount_total or 0,
        currency=(state.currency or "USD").upper(), status=PAYMENT_PENDING)


async def _settle_paid(uow: PaymentUnitOfWork, booking: BookingRecord, payment: PaymentRecord,
                       state: CheckoutState, now: datetime) -> _Applied:
    """Money arrived: record it, then confirm the booking, or refund it all if its time is
    gone. A payment recorded already is left alone (so is everything it led to)."""
    if payment.status in SETTLED_PAYMENT_STATUSES:
        return _Applied(APPLIED, "payment already recorded", booking.id)
    if payment.series_id:
        return await _settle_series(uow, payment, state, now)
    amount = state.amount_total if state.amount_total is not None else payment.amount_minor
    await _record_paid(uow, payment, amount, state)
    return await _confirm_paid(uow, booking, now)


async def _record_paid(uow: PaymentUnitOfWork, payment: PaymentRecord, amount: int,
                       state: CheckoutState) -> None:
    await uow.payments.update(
        payment, status=PAYMENT_PAID, amount_minor=amount,
        platform_fee_minor=_fee_after_discount(payment, amount),
        payment_intent_id=state.payment_intent_id or payment.payment_intent_id)


async def _confirm_paid(uow: PaymentUnitOfWork, booking: BookingRecord,
                        now: datetime) -> _Applied:
    """Confirm a booking whose payment is recorded, or refund it all if its time is gone."""
    previous = booking.status
    late = previous != "pending_payment" or (booking.expires_at is not None
                                             and booking.expires_at <= now)
    try:
        await confirm_held(_lend(uow), booking.id, now=now,
                           reason="paid after the hold ran out" if late else "paid")
    except SlotTaken:
        return await _refund_unconfirmable(uow, booking, previous, now)
    if previous in ("confirmed", "in_progress", "completed"):
        return _Applied(APPLIED, "booking was confirmed already", booking.id)
    detail = ("paid after the hold ran out; the time was still free, booking confirmed"
              if late else "paid; booking confirmed")
    return _Applied(APPLIED, detail, booking.id, [Provision(booking.id)])


async def _settle_series(uow: PaymentUnitOfWork, lead: PaymentRecord, state: CheckoutState,
                         now: datetime) -> _Applied:
    """One Checkout paid every occurrence of a weekly series: each row gets its share of what
    was paid, each held occurrence is confirmed, and an occurrence whose time is gone (paid
    after the hold ran out) is refunded on its own, in full."""
    assert lead.series_id is not None
    rows = list(await uow.payments.of_series(lead.series_id))
    paid = state.amount_total if state.amount_total is not None else sum(
        r.amount_minor for r in rows)
    actions: list[Pending] = []
    for row, share in zip(rows, split_amount(paid, [r.amount_minor for r in rows]), strict=True):
        await _record_paid(uow, row, share, state)
        booking = await uow.payments.lock_booking(row.booking_id)
        if booking is not None:
            actions += (await _confirm_paid(uow, booking, now)).actions
    confirmed = sum(isinstance(a, Provision) for a in actions)
    return _Applied(APPLIED, f"series paid: {confirmed} of {len(rows)} confirmed", lead.booking_id,
                    actions)


def split_amount(total: int, weights: Sequence[int]) -> list[int]:
    """`total` in shares proportional to `weights` (whole minor units; the first share takes
    the rounding remainder), e.g. a discounted series total over its occurrences."""
    whole = sum(weights)
    if whole <= 0:
        return [total if i == 0 else 0 for i in range(len(weights))]
    shares = [total * weight // whole for weight in weights]
    if shares:
        shares[0] += total - sum(shares)
    return shares


async def _members(uow: PaymentUnitOfWork, payment: PaymentRecord
                   ) -> list[tuple[PaymentRecord, BookingRecord]]:
    """The rows a Checkout Session pays, with their (locked) bookings: the payment alone, or
    every occurrence of its series."""
    rows = (list(await uow.payments.of_series(payment.series_id)) if payment.series_id
            else [payment])
    found = []
    for row in rows:
        booking = await uow.payments.lock_booking(row.booking_id)
        if booking is not None:
            found.append((row, booking))
    return found


def _fee_after_discount(payment: PaymentRecord, paid_minor: int) -> int:
    """The platform fee of what was really paid (a promotion code lowers the total): Stripe
    keeps a destination charge's fixed application fee (never above the amount); the fee of
    money the server keeps shrinks in proportion."""
    if payment.destination_account or payment.amount_minor <= 0:
        return min(payment.platform_fee_minor, paid_minor)
    return payment.platform_fee_minor * min(paid_minor, payment.amount_minor) // (
        payment.amount_minor)


async def _refund_unconfirmable(uow: PaymentUnitOfWork, booking: BookingRecord, previous: str,
                                now: datetime) -> _Applied:
    if previous == "pending_payment":  # the hold ran out but was not marked yet
        await _expire_booking(uow, booking, now, "payment hold ran out")
    reason = (REASON_SLOT_TAKEN if previous in ("pending_payment", "expired")
              else REASON_BOOKING_CLOSED.format(status=previous.replace("_", " ")))
    refund = await plan_refund(uow, booking.id, now=now, reason=reason, full=True)
    if refund is None:
        return _Applied(APPLIED, "paid for a time that is gone; nothing to refund", booking.id,
                        [_Notice("late_no_refund", booking.id)])
    return _Applied(APPLIED, "paid for a time that is gone; refunding in full", booking.id,
                    [SendRefund(refund.id)])


async def _checkout_failed(uow: PaymentUnitOfWork, event: PaymentEvent,
                           now: datetime) -> _Applied:
    """`async_payment_failed`: the delayed payment did not go through; free the slot."""
    state = event.checkout
    if state is None or state.booking_id is None:
        return _Applied(IGNORED, "not a Coachbot checkout")
    booking = await uow.payments.lock_booking(state.booking_id)
    if booking is None:
        return _Applied(IGNORED, f"booking {state.booking_id} is unknown")
    payment = await _payment_for_session(uow, booking, state)
    if payment.status != PAYMENT_PENDING:
        return _Applied(APPLIED, f"payment already {payment.status}", booking.id)
    for row, held in await _members(uow, payment):
        if row.status == PAYMENT_PENDING:
            await uow.payments.update(row, status=PAYMENT_FAILED)
        if held.status == "pending_payment":
            await _expire_booking(uow, held, now, "the payment failed")
    return _Applied(APPLIED, "payment failed; hold released", booking.id,
                    [_Notice("payment_failed", booking.id)])


async def _checkout_expired(uow: PaymentUnitOfWork, event: PaymentEvent,
                            now: datetime) -> _Applied:
    """The session expired unpaid: release the hold (a recorded payment is never undone)."""
    state = event.checkout
    if state is None or state.booking_id is None:
        return _Applied(IGNORED, "not a Coachbot checkout")
    booking = await uow.payments.lock_booking(state.booking_id)
    if booking is None:
        return _Applied(IGNORED, f"booking {state.booking_id} is unknown")
    payment = await _payment_for_session(uow, booking, state)
    return await _release_unpaid(uow, booking, payment, now, "the checkout expired unpaid")


async def _release_unpaid(uow: PaymentUnitOfWork, booking: BookingRecord,
                          payment: PaymentRecord | None, now: datetime,
                          reason: str) -> _Applied:
    if payment is not None:
        if payment.status != PAYMENT_PENDING:
            return _Applied(APPLIED, f"payment already {payment.status}", booking.id)
        for row, held in await _members(uow, payment):
            if row.status == PAYMENT_PENDING:
                await uow.payments.update(row, status=PAYMENT_EXPIRED)
            if held.id != booking.id and held.status == "pending_payment":
                await _expire_booking(uow, held, now, reason)
    if booking.status == "pending_payment":
        await _expire_booking(uow, booking, now, reason)
        return _Applied(APPLIED, "hold released", booking.id)
    return _Applied(APPLIED, f"booking already {booking.status}", booking.id)


async def _refund_event(uow: PaymentUnitOfWork, event: PaymentEvent,
                        now: datetime) -> _Applied:
    """`refund.created` / `refund.updated` / `refund.failed`: track the refund's status."""
    if event.refund is None:
        return _Applied(IGNORED, "no refund in the event")
    change = await _sync_refund(uow, event.refund)
    row = change.row
    if row is None:
        return _Applied(IGNORED, "a refund of a payment Coachbot does not know")
    payment = await uow.payments.get(row.payment_id)
    notices = await _refund_notices(uow, change, payment)
    return _Applied(APPLIED, f"refund {row.status}", payment.booking_id if payment else None,
                    notices)


async def _charge_refunded(uow: PaymentUnitOfWork, event: PaymentEvent,
                           now: datetime) -> _Applied:
    """`charge.refunded`: the refunds listed in it, and the payment's refunded status (also
    for refunds made in the Stripe Dashboard)."""
    charge = event.charge
    if charge is None or charge.payment_intent_id is None:
        return _Applied(IGNORED, "no charge in the event")
    payment = await uow.payments.by_payment_intent(charge.payment_intent_id)
    if payment is None:
        return _Applied(IGNORED, "a charge Coachbot does not know")
    notices: list[Pending] = []
    for refund in charge.refunds:
        notices += await _refund_notices(uow, await _sync_refund(uow, refund), payment)
    if payment.series_id:  # one charge, a row per occurrence: each by its own refunds
        for row in await uow.payments.of_series(payment.series_id):
            await _recompute_payment(uow, row)
    elif payment.status in SETTLED_PAYMENT_STATUSES and charge.amount_refunded_minor > 0:
        target = (PAYMENT_REFUNDED if charge.amount_refunded_minor >= payment.amount_minor
                  else PAYMENT_PARTIALLY_REFUNDED)
        if _PAYMENT_RANK[target] > _PAYMENT_RANK.get(payment.status, 0):
            await uow.payments.update(payment, status=target)
    return _Applied(APPLIED, f"payment {payment.status}", payment.booking_id, notices)


_HANDLERS: Final[Mapping[str, Callable[[PaymentUnitOfWork, PaymentEvent, datetime],
                                       Awaitable[_Applied]]]] = {
    CHECKOUT_COMPLETED: _checkout_settled,
    CHECKOUT_ASYNC_SUCCEEDED: _checkout_settled,
    CHECKOUT_ASYNC_FAILED: _checkout_failed,
    CHECKOUT_EXPIRED: _checkout_expired,
    CHARGE_REFUNDED: _charge_refunded,
    REFUND_CREATED: _refund_event,
    REFUND_UPDATED: _refund_event,
    REFUND_FAILED_EVENT: _refund_event,
}
_CHECKOUT_HANDLERS: Final = frozenset({_checkout_settled, _checkout_failed, _checkout_expired})


async def _package_checkout(uow: PaymentUnitOfWork, event: PaymentEvent,
                            now: datetime) -> _Applied:
    """A package purchase's Checkout Session (`scheduling/package_payments.py`)."""
    from scheduling.package_payments import apply_checkout_event  # it builds on this module

    result = await apply_checkout_event(uow, event, now)
    return _Applied(result.status, result.detail, None, list(result.actions))


_PAYMENT_RANK: Final = {PAYMENT_PAID: 1, PAYMENT_PARTIALLY_REFUNDED: 2, PAYMENT_REFUNDED: 3}


# ---------------------------------------------------------------- refunds


async def plan_refund(uow: PaymentUnitOfWork, booking_id: int, *, now: datetime, reason: str,
                      amount_minor: int | None = None, full: bool = False
                      ) -> RefundRecord | None:
    """Stage the refund row of a paid booking in the caller's unit of work (no provider call:
    after committing, give the row's id to `send_refund`). The cancellation use case calls
    this inside its own transaction.

    The amount: `amount_minor` if given, all that is left with `full=True`, else what the
    offering's (or the server's) cancellation policy gives for the notice left before the
    start. Never more than what is left to refund. None when there is nothing to refund
    (unpaid, free, refunded already, or the policy gives nothing).
    """
    payment = await uow.payments.for_booking(booking_id)
    if (payment is None or payment.status not in SETTLED_PAYMENT_STATUSES
            or not payment.payment_intent_id):
        return None
    refunds = await uow.payments.refunds_of(payment.id)
    left = payment.amount_minor - sum(r.amount_minor for r in refunds
                                      if r.status in _COUNTED_REFUND_STATUSES)
    if amount_minor is not None:
        if amount_minor <= 0:
            raise InvalidInput("A refund must be more than nothing.")
        wanted = amount_minor
    elif full:
        wanted = left
    else:
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            return None
        offering = await uow.offerings.get(booking.offering_id)
        settings = await uow.guild_settings.get(booking.guild_id)
        wanted = policy_for(offering, settings).refund_amount(
            payment.amount_minor, booking.start_at - now) or 0
    amount = min(wanted, left)
    if amount <= 0:
        return None
    number = await uow.payments.next_refund_number(booking_id)
    return await uow.payments.add_refund(
        payment_id=payment.id, idempotency_key=refund_key(booking_id, number),
        amount_minor=amount, status=REFUND_PENDING, reason=reason)


async def refund_booking(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway,
                         booking_id: int, *, now: datetime, reason: str,
                         amount_minor: int | None = None, full: bool = False
                         ) -> RefundResult | None:
    """Refund a paid booking (amount as in `plan_refund`) and send it to the provider.

    None when there is nothing to refund. The refund row is committed before the provider is
    asked; when it cannot be reached the result says so (`sent=False`, `message`) and the
    maintenance pass sends it later. Carry out `result.actions` (the student's DM).
    """
    async with uow_factory(immediate=True) as uow:
        refund = await plan_refund(uow, booking_id, now=now, reason=reason,
                                   amount_minor=amount_minor, full=full)
        if refund is None:
            return None
        await uow.commit()
    return await send_refund(uow_factory, gateway, refund.id, now=now)


async def send_refund(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, refund_id: int,
                      *, now: datetime, look_first: bool = False) -> RefundResult:
    """Ask the provider for a committed refund row and record the answer.

    Idempotent: a row sent already is only reported. `look_first` (retries) first asks the
    provider whether an earlier attempt got through, because idempotency keys are pruned
    after a day. A refusal marks the refund failed (the student is told); an unreachable
    provider leaves it pending for the next maintenance pass.
    """
    async with uow_factory() as uow:
        row = await uow.payments.get_refund(refund_id)
        payment = await uow.payments.get(row.payment_id) if row is not None else None
    if row is None or payment is None:
        raise NotFound(f"Refund #{refund_id} does not exist.")
    money = Money(row.amount_minor, payment.currency)
    if row.provider_refund_id is not None or row.status in FINAL_REFUND_STATUSES:
        return RefundResult(row.id, payment.booking_id, money, row.status, True)
    if not payment.payment_intent_id:
        raise Conflict(f"Booking #{payment.booking_id} has no completed payment to refund.")
    request = RefundRequest(
        payment_intent_id=payment.payment_intent_id, amount_minor=row.amount_minor,
        idempotency_key=row.idempotency_key,
        reverse_transfer=bool(payment.destination_account),
        refund_application_fee=bool(payment.destination_account)
        and payment.platform_fee_minor > 0,
        metadata={"source": METADATA_SOURCE, "booking_id": str(payment.booking_id),
                  "refund_key": row.idempotency_key})
    refused: str | None = None
    state: RefundState | None = None
    try:
        if look_first:
            state = await gateway.find_refund(payment.payment_intent_id, row.idempotency_key)
        if state is None:
            state = await gateway.create_refund(request)
    except PaymentsUnavailable:
        return RefundResult(row.id, payment.booking_id, money, row.status, False,
                            REFUND_UNAVAILABLE)
    except PaymentError as error:
        refused = error.user_message

    async with uow_factory(immediate=True) as uow:
        row = await uow.payments.get_refund(refund_id)
        assert row is not None
        if state is not None:
            change = await _sync_refund(uow, replace(state, refund_key=row.idempotency_key))
            row = change.row or row
        elif row.status in FINAL_REFUND_STATUSES:
            change = _RefundChange(row)  # settled meanwhile (e.g. by a webhook)
        else:
            await uow.payments.update_refund(
                row, reason=f"{row.reason or 'refund'}; Stripe refused it: {refused}")
            await _move_refund(uow, row, REFUND_FAILED)
            change = _RefundChange(row, final_now=True, first_contact=True)
        payment = await uow.payments.get(row.payment_id)
        notices = await _refund_notices(uow, change, payment)
        await uow.commit()
    assert payment is not None
    return RefundResult(row.id, payment.booking_id, money, row.status, state is not None,
                        refused or "", await _word(uow_factory, notices, now=now))


def _automatic(row: RefundRecord) -> bool:
    return (row.reason or "").startswith("automatic:")


@dataclass(frozen=True)
class _RefundChange:
    """What storing the provider's view of a refund changed: its row, whether it became final
    just now, and whether this was the first news of it from the provider (the row had no
    provider id yet)."""

    row: RefundRecord | None
    final_now: bool = False
    first_contact: bool = False


async def _sync_refund(uow: PaymentUnitOfWork, state: RefundState) -> _RefundChange:
    """Store what the provider says about a refund. Refunds made outside Coachbot (the
    Stripe Dashboard) get a row of their own."""
    row = await uow.payments.refund_by_provider_id(state.refund_id)
    if row is None and state.refund_key:
        row = await uow.payments.refund_by_key(state.refund_key)
    if row is None:
        payment = (await uow.payments.by_payment_intent(state.payment_intent_id)
                   if state.payment_intent_id else None)
        if payment is None:
            return _RefundChange(None)
        status = state.status if state.status in _REFUND_NEXT else REFUND_PENDING
        row = await uow.payments.add_refund(
            payment_id=payment.id, provider_refund_id=state.refund_id,
            idempotency_key=f"external:{state.refund_id}", amount_minor=state.amount_minor,
            status=status, reason=REASON_EXTERNAL)
        await _recompute_payment(uow, payment)
        return _RefundChange(row, status in FINAL_REFUND_STATUSES, first_contact=True)
    first_contact = row.provider_refund_id is None
    if first_contact:
        await uow.payments.update_refund(row, provider_refund_id=state.refund_id)
    return _RefundChange(row, await _move_refund(uow, row, state.status), first_contact)


async def _move_refund(uow: PaymentUnitOfWork, row: RefundRecord, status: str) -> bool:
    """Move a refund's status forward (never back: events arrive out of order); True when it
    became final just now."""
    if status not in _REFUND_NEXT.get(row.status, frozenset()):
        return False
    await uow.payments.update_refund(row, status=status)
    payment = await uow.payments.get(row.payment_id)
    if payment is not None:
        await _recompute_payment(uow, payment)
    return status in FINAL_REFUND_STATUSES


async def _recompute_payment(uow: PaymentUnitOfWork, payment: PaymentRecord) -> None:
    """A settled payment's status from its succeeded refunds."""
    if payment.status not in SETTLED_PAYMENT_STATUSES:
        return
    refunded = sum(r.amount_minor for r in await uow.payments.refunds_of(payment.id)
                   if r.status == REFUND_SUCCEEDED)
    status = (PAYMENT_PAID if refunded <= 0 else
              PAYMENT_REFUNDED if refunded >= payment.amount_minor else
              PAYMENT_PARTIALLY_REFUNDED)
    if status != payment.status:
        await uow.payments.update(payment, status=status)


async def _refund_notices(uow: PaymentUnitOfWork, change: _RefundChange,
                          payment: PaymentRecord | None) -> list[Pending]:
    """What to tell the student about a refund, once per kind of news:

    - the first news from the provider: the refund is final (done or failed), or, for
      refunds Coachbot made on its own (late payment, closed booking), that it is on its way;
      a refund for a time someone else took explains that, with the nearest free times;
    - later, when it becomes final: done, or failed (then talk to an admin).
    """
    row = change.row
    if row is None or payment is None:
        return []
    final = row.status in FINAL_REFUND_STATUSES
    if change.first_contact:
        if not final and not _automatic(row):
            return []
    elif not change.final_now:
        return []
    booking = await uow.bookings.get(payment.booking_id)
    offering = await uow.offerings.get(booking.offering_id) if booking else None
    if booking is None or offering is None:
        return []
    if change.first_contact and row.reason == REASON_SLOT_TAKEN and row.status != REFUND_FAILED:
        return [_Notice("late_refund", booking.id, row.id)]
    text = texts.refund_notice(
        booking_id=booking.id, title=offering.title, start=booking.start_at,
        amount=Money(row.amount_minor, payment.currency), status=row.status,
        automatic_reason=row.reason if _automatic(row) else None, started=not final)
    return [NotifyStudent(booking.student_id, booking.id, text)]


async def _word(uow_factory: UnitOfWorkFactory, pending: Sequence[Pending], *,
                now: datetime) -> tuple[Action, ...]:
    """Turn the notices of a committed change into messages (after the commit: some list
    the nearest free times, which are read through their own unit of work)."""
    actions: list[Action] = []
    for item in pending:
        if not isinstance(item, _Notice):
            actions.append(item)
            continue
        async with uow_factory() as uow:
            booking = await uow.bookings.get(item.booking_id)
            offering = await uow.offerings.get(booking.offering_id) if booking else None
            refund = (await uow.payments.get_refund(item.refund_id)
                      if item.refund_id is not None else None)
            payment = await uow.payments.get(refund.payment_id) if refund else None
        if booking is None or offering is None:
            continue
        free = await alternatives_to(
            uow_factory, BookingRequest(booking.offering_id, booking.student_id,
                                        booking.start_at), now=now)
        starts = [slot.start for slot in free]
        if item.kind == "payment_failed":
            text = texts.payment_failed_notice(booking_id=booking.id, title=offering.title,
                                               start=booking.start_at, alternatives=starts)
        else:
            text = texts.late_payment_notice(
                booking_id=booking.id, title=offering.title, start=booking.start_at,
                refund=Money(refund.amount_minor, payment.currency)
                if refund and payment else None,
                refund_status=refund.status if refund else None, alternatives=starts)
        actions.append(NotifyStudent(booking.student_id, booking.id, text))
    return tuple(actions)


# ---------------------------------------------------------------- maintenance (no webhooks)

MAINTENANCE_BATCH: Final = 50
# A refund still pending this long after its last change is asked about (its webhook may
# have been missed).
REFUND_POLL_AFTER: Final = timedelta(minutes=10)


async def expire_due_holds(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, *,
                           now: datetime, limit: int = MAINTENANCE_BATCH
                           ) -> list[HoldOutcome]:
    """Release holds whose time ran out, whether or not a webhook arrives: expire their
    Checkout Session at the provider and free the slot. A session the provider reports as
    paid is settled instead (confirmed, or refunded in full if the time is gone), so no
    payment is lost. When the provider cannot be reached the slot is freed all the same and
    the session is expired on a later pass."""
    async with uow_factory() as uow:
        due = [(hold.booking.id, hold.payment.id if hold.payment else None,
                hold.payment.checkout_session_id if hold.payment else None,
                hold.payment.payment_intent_id if hold.payment else None)
               for hold in await uow.payments.due_holds(now, limit)]
    outcomes = []
    for booking_id, payment_id, session_id, payment_intent_id in due:
        state: CheckoutState | None = None
        if session_id is not None and payment_intent_id is None:
            try:
                state = await gateway.expire_checkout(session_id)
            except PaymentError:
                state = None
        outcomes.append(await _apply_hold_expiry(uow_factory, booking_id, payment_id, state,
                                                 now=now))
    return outcomes


async def _apply_hold_expiry(uow_factory: UnitOfWorkFactory, booking_id: int,
                             payment_id: int | None, state: CheckoutState | None, *,
                             now: datetime) -> HoldOutcome:
    reason = "payment hold ran out"
    async with uow_factory(immediate=True) as uow:
        booking = await uow.payments.lock_booking(booking_id)
        if booking is None:
            return HoldOutcome(booking_id, "released")
        payment = await uow.payments.get(payment_id) if payment_id is not None else None
        if payment is None or payment.status != PAYMENT_PENDING:
            applied = await _release_unpaid(uow, booking, None, now, reason)
            result = "released"
        elif state is not None and state.paid:
            applied = await _settle_paid(uow, booking, payment, state, now)
            result = "paid"
        elif payment.payment_intent_id or (state is not None
                                           and state.status == SESSION_COMPLETE):
            # A delayed payment method is processing: free the slot; when the money arrives
            # it confirms the booking if the time is still free, or is refunded.
            if state is not None and state.payment_intent_id and not payment.payment_intent_id:
                await uow.payments.update(payment, payment_intent_id=state.payment_intent_id)
            applied = await _release_unpaid(uow, booking, None, now, reason)
            result = "waiting"
        elif state is None or state.status == SESSION_OPEN:
            applied = await _release_unpaid(uow, booking, None, now, reason)
            result = "retry"
        else:
            applied = await _release_unpaid(uow, booking, payment, now, reason)
            result = "released"
        await uow.commit()
    return HoldOutcome(booking_id, result, await _word(uow_factory, applied.actions, now=now))


async def retry_refunds(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, *,
                        now: datetime, limit: int = MAINTENANCE_BATCH) -> list[RefundResult]:
    """Send refund rows that never reached the provider (after checking it did not get an
    earlier attempt), and ask about refunds still pending long after their last change."""
    async with uow_factory() as uow:
        unsent = [r.id for r in await uow.payments.unsent_refunds(limit)]
        unsettled = [(r.id, r.provider_refund_id) for r in
                     await uow.payments.unsettled_refunds(now - REFUND_POLL_AFTER, limit)]
    results = [await send_refund(uow_factory, gateway, refund_id, now=now, look_first=True)
               for refund_id in unsent]
    for refund_id, provider_id in unsettled:
        if provider_id is None:
            continue
        try:
            state = await gateway.get_refund(provider_id)
        except PaymentError:
            continue
        async with uow_factory(immediate=True) as uow:
            change = await _sync_refund(uow, state)
            row = change.row or await uow.payments.get_refund(refund_id)
            payment = await uow.payments.get(row.payment_id) if row is not None else None
            notices = await _refund_notices(uow, change, payment)
            await uow.commit()
        if row is not None and payment is not None:
            results.append(RefundResult(row.id, payment.booking_id,
                                        Money(row.amount_minor, payment.currency), row.status,
                                        True, actions=await _word(uow_factory, notices,
                                                                  now=now)))
    return results


@dataclass(frozen=True)
class MaintenanceReport:
    holds: tuple[HoldOutcome, ...] = ()
    refunds: tuple[RefundResult, ...] = ()

    @property
    def actions(self) -> tuple[Action, ...]:
        return (*(a for h in self.holds for a in h.actions),
                *(a for r in self.refunds for a in r.actions))


async def run_payment_maintenance(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, *,
                                  now: datetime) -> MaintenanceReport:
    """One pass of everything payments need without webhooks (run it every minute)."""
    holds = await expire_due_holds(uow_factory, gateway, now=now)
    refunds = await retry_refunds(uow_factory, gateway, now=now)
    return MaintenanceReport(tuple(holds), tuple(refunds))
