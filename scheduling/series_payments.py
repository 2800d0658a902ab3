"""Paying for a weekly series at once: every occurrence is held together
(`scheduling.booking.book_many`), then ONE Checkout Session charges the whole series. Each
occurrence gets a payment row of its own holding its share (so each can be refunded alone
under the policy); the first occurrence's row carries the Checkout Session and all rows share
the series id, which is how the webhook settles them together (`scheduling.payments`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scheduling.booking import BookingRecord, BookingRequest, book_many
from scheduling.errors import Conflict, InvalidInput, NotFound
from scheduling.money import Money
from scheduling.payments import (
    FREE_BOOKING,
    HOLD_GONE,
    METADATA_SOURCE,
    MIN_HOLD,
    PAYMENT_PENDING,
    AddonRecord,
    CheckoutRequest,
    CheckoutStarted,
    CoachRecord,
    LineItem,
    OfferingRecord,
    PaymentGateway,
    PaymentRejected,
    UnitOfWorkFactory,
    checkout_expiry,
    choose_addons,
    clip_name,
    expire_quietly,
    platform_fee,
    release_hold,
    return_urls,
)
from scheduling.series import new_series_id


def series_key(series_id: str) -> str:
    return f"series:{series_id}:checkout"


def series_checkout(bookings: Sequence[BookingRecord], offering: OfferingRecord,
                    coach: CoachRecord, addons: Sequence[AddonRecord], *, fee_percent: int,
                    public_url: str, expires_at: datetime, series_id: str,
                    destination: str | None = None) -> CheckoutRequest:
    """One Checkout Session for every occurrence: the session (and each add-on) once per
    week, as line item quantities."""
    lead, count = bookings[0], len(bookings)
    first, last = lead.start_at.astimezone(UTC), bookings[-1].start_at.astimezone(UTC)
    items = (
        LineItem(name=clip_name(f"{offering.title} with {coach.display_name}"),
                 amount_minor=offering.price_minor, quantity=count,
                 description=clip_name(f"Weekly series of {count} {offering.duration_minutes}-"
                                   f"minute sessions, {first:%a %d %b %Y %H:%M} to "
                                   f"{last:%d %b %Y} UTC")),
        *(LineItem(name=clip_name(addon.name), amount_minor=addon.price_minor, quantity=count,
                   description="Add-on, each session") for addon in addons),
    )
    total = sum(item.amount_minor * item.quantity for item in items)
    fee = platform_fee(total, fee_percent)
    success_url, cancel_url = return_urls(public_url, lead.id)
    metadata = {
        "source": METADATA_SOURCE, "booking_id": str(lead.id), "series_id": series_id,
        "sessions": str(count), "guild_id": str(lead.guild_id), "offering_id": str(offering.id),
        "coach_id": str(coach.id), "student_id": str(lead.student_id),
        "platform_fee_minor": str(fee),
    }
    if addons:
        metadata["addon_ids"] = ",".join(str(addon.id) for addon in addons)
    if destination:
        metadata["destination"] = destination
    return CheckoutRequest(
        booking_id=lead.id, currency=offering.currency.upper(), line_items=items,
        expires_at=expires_at, success_url=success_url, cancel_url=cancel_url,
        idempotency_key=series_key(series_id), metadata=metadata,
        allow_promotion_codes=bool(offering.allow_promotion_codes),
        application_fee_minor=fee if destination else 0, destination_account=destination,
        description=clip_name(f"Coachbot weekly series ({count} sessions): {offering.title} with "
                          f"{coach.display_name}"))


async def book_series_and_checkout(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway,
                                   request: BookingRequest, starts: Sequence[datetime], *,
                                   now: datetime, hold_minutes: int, public_url: str,
                                   addon_ids: Sequence[int] = ()) -> CheckoutStarted:
    """Hold every occurrence (all or none: `TimesUnavailable`), then open the one Checkout
    Session. Any failure after the holds were placed releases them all (nothing charged)."""
    async with uow_factory() as uow:
        offering = await uow.offerings.get(request.offering_id)
        if offering is not None:
            chosen = [a for a in await uow.payments.addons(offering.id) if a.id in set(addon_ids)]
            if offering.price_minor + sum(a.price_minor for a in chosen) <= 0:
                raise InvalidInput(FREE_BOOKING)
            request = replace(request, extra_minutes=sum(a.extra_minutes for a in chosen))
    hold = max(timedelta(minutes=hold_minutes), MIN_HOLD)
    series_id = new_series_id()
    bookings = await book_many(uow_factory, request, starts, series_id=series_id, now=now,
                               hold=hold)
    try:
        return await _start(uow_factory, gateway, bookings, series_id, now=now,
                            public_url=public_url, addon_ids=addon_ids)
    except Exception:
        for booking in bookings:
            await release_hold(uow_factory, booking.id, now=now,
                               reason="the payment page could not be opened")
        raise


async def _start(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway,
                 bookings: Sequence[BookingRecord], series_id: str, *, now: datetime,
                 public_url: str, addon_ids: Sequence[int]) -> CheckoutStarted:
    lead = bookings[0]
    async with uow_factory() as uow:
        offering = await uow.offerings.get(lead.offering_id)
        coach = await uow.coaches.get(lead.coach_id)
        if offering is None or coach is None:
            raise NotFound("That offering or its coach is gone. Run `/book` again.")
        settings = await uow.guild_settings.get(lead.guild_id)
        addons = choose_addons(await uow.payments.addons(offering.id), addon_ids, lead,
                               offering)
    expires_at = checkout_expiry(lead.expires_at or now, now)
    destination = coach.stripe_account_id or None
    if destination and not await gateway.account_ready(destination):
        destination = None
    fee_percent = settings.platform_fee_percent if settings else 0
    request = series_checkout(bookings, offering, coach, addons, fee_percent=fee_percent,
                              public_url=public_url, expires_at=expires_at,
                              series_id=series_id, destination=destination)
    state = await gateway.create_checkout(request)
    each = request.total_minor // len(bookings)
    async with uow_factory(immediate=True) as uow:
        held = [await uow.payments.lock_booking(b.id) for b in bookings]
        gone = any(b is None or b.status != "pending_payment" for b in held)
        if not gone and await uow.payments.by_checkout_session(state.session_id) is None:
            for index, booking in enumerate(bookings):
                await uow.payments.add(
                    booking_id=booking.id,
                    checkout_session_id=state.session_id if index == 0 else None,
                    amount_minor=each, currency=request.currency, status=PAYMENT_PENDING,
                    platform_fee_minor=platform_fee(each, fee_percent),
                    destination_account=request.destination_account, series_id=series_id)
            for booking in held:
                assert booking is not None
                booking.expires_at = state.expires_at or expires_at
            await uow.commit()
    if gone:
        await expire_quietly(gateway, state.session_id)
        raise Conflict(HOLD_GONE)
    if not state.url:
        raise PaymentRejected("Stripe opened the payment page without a link. Nothing was "
                              "charged. Try again in a minute.")
    return CheckoutStarted(booking_id=lead.id, start_at=lead.start_at, checkout_url=state.url,
                           session_id=state.session_id,
                           expires_at=state.expires_at or expires_at,
                           amount=Money(request.total_minor, request.currency),
                           line_items=request.line_items)
