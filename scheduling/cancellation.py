"""Cancelling a booking under its policy: what the policy gives right now, and the cancellation
itself (status, history, freed slot, refund row and audit entry in one transaction).

    quote = await quote_cancellation(uow, booking_id, actor_id, now=now)
    done = await cancel_booking(uow_factory, booking_id, actor_id, now=now, reason="...")
    # then: send done.refund_id to the provider, drop the booking's jobs, tell the other party

Who may cancel: the student (under the policy: the tier for the notice left decides the refund;
with less notice than any tier, no self-service cancellation), the coach and server admins
(always, refunding in full). A session booked with a package credit has no payment: the
credit is returned instead of money when the policy would refund anything (any tier above
0 %) or when the coach or an admin cancels. What decides is the time at confirmation: a
session that has started (or is `in_progress`) can no longer be cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from scheduling.credits import CreditStore, credit_balance, plural, return_credit, usable
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from scheduling.money import format_money
from scheduling.payments import (
    SETTLED_PAYMENT_STATUSES,
    PaymentUnitOfWork,
    plan_refund,
    policy_for,
)
from scheduling.policy import Policy

CANCELLABLE_STATUSES: Final = ("confirmed",)
REASON_LIMIT: Final = 500
AUDIT_ACTION: Final = "booking.cancelled"

STUDENT: Final = "student"
COACH: Final = "coach"
ADMIN: Final = "admin"

NOT_A_PARTICIPANT: Final = ("Only the student and the coach of this session (and server admins) "
                            "can cancel it.")
STARTED: Final = ("This session has already started, so it can no longer be cancelled. If "
                  "something went wrong, talk to your coach or a server admin.")
HELD: Final = ("This booking is not paid yet: use **Cancel** on its Pay now message to give "
               "the time back (nothing was charged).")


class Audit(Protocol):
    async def add(self, *, guild_id: int, actor_id: int, action: str,
                  before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                  at: datetime | None = None) -> Any: ...


class PurchaseReader(CreditStore, Protocol):
    async def get_purchase(self, purchase_id: int) -> Any: ...


class CancelUnitOfWork(PaymentUnitOfWork, Protocol):
    audit: Audit
    packages: PurchaseReader


CancelUnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[CancelUnitOfWork]]


@dataclass(frozen=True)
class CancelQuote:
    """What cancelling gives right now, for the confirmation screen."""

    booking_id: int
    guild_id: int
    title: str
    start_at: datetime
    end_at: datetime
    sequence: int  # the calendar event's SEQUENCE (one per reschedule)
    role: str  # STUDENT, COACH or ADMIN
    paid_minor: int | None  # None: nothing was paid (a free session)
    refund_minor: int  # what the refund would be (0 when nothing is refunded)
    currency: str
    policy_lines: tuple[str, ...]
    credit: bool = False  # booked with a package credit (no payment)
    credit_back: bool = False  # cancelling now returns that credit
    credits_left: int = 0  # the student's usable credits for the offering after cancelling

    @property
    def by_student(self) -> bool:
        return self.role == STUDENT

    @property
    def credit_text(self) -> str:
        if self.credit_back:
            return f"Your credit is returned ({plural(self.credits_left)} left)."
        return "No credit back under the policy."

    @property
    def refund_text(self) -> str:
        if self.credit:
            return self.credit_text
        if self.paid_minor is None:
            return "Free session: nothing to refund."
        if self.refund_minor <= 0:
            return (f"No refund (paid {format_money(self.paid_minor, self.currency)}).")
        full = " (full refund)" if self.refund_minor >= self.paid_minor else ""
        return (f"Refund of {format_money(self.refund_minor, self.currency)} of the "
                f"{format_money(self.paid_minor, self.currency)} paid{full}.")


@dataclass(frozen=True)
class Cancelled:
    """A committed cancellation: what the Discord side still has to do."""

    quote: CancelQuote
    actor_id: int
    student_id: int
    coach_user_id: int
    coach_name: str
    reason: str
    at: datetime
    refund_id: int | None  # a committed refund row to send to the provider
    log_channel_id: int | None

    @property
    def other_party_id(self) -> int:
        return self.coach_user_id if self.actor_id == self.student_id else self.student_id


def clean_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput("Give a reason for cancelling (a few words are enough).")
    if len(text) > REASON_LIMIT:
        raise InvalidInput(f"Keep the reason under {REASON_LIMIT} characters.")
    return text


def no_cancel_message(policy: Policy, start_at: datetime) -> str:
    lines = "\n".join(f"- {line}" for line in policy.describe())
    return ("This session is too close to cancel it yourself "
            f"(it starts <t:{int(start_at.timestamp())}:R>). The cancellation policy:\n"
            f"{lines}\nYour coach can still cancel it: ask them (with a full refund).")


async def _role(uow: CancelUnitOfWork, booking: Any, actor_id: int,
                admin_of: int | None) -> tuple[str, Any]:
    coach = await uow.coaches.get(booking.coach_id)
    if coach is not None and coach.user_id == actor_id:
        return COACH, coach
    if booking.student_id == actor_id:
        return STUDENT, coach
    if admin_of is not None and admin_of == booking.guild_id:
        return ADMIN, coach
    raise NotAllowed(NOT_A_PARTICIPANT)


async def _quote(uow: CancelUnitOfWork, booking_id: int, actor_id: int, *, now: datetime,
                 admin_of: int | None) -> tuple[CancelQuote, Any, Policy]:
    booking = await uow.bookings.get(booking_id)
    if booking is None:
        raise NotFound(f"Booking #{booking_id} does not exist.")
    role, coach = await _role(uow, booking, actor_id, admin_of)
    if booking.status == "pending_payment":
        raise Conflict(HELD)
    if booking.status == "in_progress" or (booking.status in CANCELLABLE_STATUSES
                                           and booking.start_at <= now):
        raise Conflict(STARTED)
    if booking.status not in CANCELLABLE_STATUSES:
        raise Conflict(f"Booking #{booking_id} is {booking.status.replace('_', ' ')}: there is "
                       "nothing to cancel.")
    offering = await uow.offerings.get(booking.offering_id)
    settings = await uow.guild_settings.get(booking.guild_id)
    policy = policy_for(offering, settings)
    notice = booking.start_at - now
    payment = await uow.payments.for_booking(booking_id)
    paid = (payment is not None and payment.status in SETTLED_PAYMENT_STATUSES
            and payment.payment_intent_id is not None)
    if role == STUDENT and policy.refund_percent(notice) is None:
        raise NotAllowed(no_cancel_message(policy, booking.start_at))
    refund = 0
    if paid:
        assert payment is not None
        refund = (payment.amount_minor if role != STUDENT
                  else policy.refund_amount(payment.amount_minor, notice) or 0)
    credit, credit_back, credits_left = await _credit_terms(uow, booking, role, policy,
                                                            notice, now)
    quote = CancelQuote(
        booking_id=booking.id, guild_id=booking.guild_id,
        title=offering.title if offering else "Session", start_at=booking.start_at,
        end_at=booking.end_at, sequence=booking.reschedule_count, role=role,
        paid_minor=payment.amount_minor if paid and payment else None, refund_minor=refund,
        currency=payment.currency if paid and payment else
        (offering.currency if offering else "USD"),
        policy_lines=tuple(policy.describe()), credit=credit, credit_back=credit_back,
        credits_left=credits_left)
    return quote, coach, policy


async def _credit_terms(uow: CancelUnitOfWork, booking: Any, role: str, policy: Policy,
                        notice: Any, now: datetime) -> tuple[bool, bool, int]:
    """(booked with a credit, the credit comes back, usable credits after cancelling)."""
    use = await uow.packages.credit_use_for_booking(booking.id)
    if use is None or use.returned_at is not None:
        return False, False, 0
    back = role != STUDENT or (policy.refund_percent(notice) or 0) > 0
    balance = await credit_balance(uow, guild_id=booking.guild_id,  # type: ignore[arg-type]
                                   student_id=booking.student_id,
                                   offering_id=booking.offering_id, now=now)
    left = balance.remaining
    if back:
        purchase = await uow.packages.get_purchase(use.purchase_id)
        if purchase is not None and usable(purchase, now):
            left += 1
    return True, back, left


async def quote_cancellation(uow: CancelUnitOfWork, booking_id: int, actor_id: int, *,
                             now: datetime, admin_of: int | None = None) -> CancelQuote:
    """What cancelling `booking_id` by `actor_id` gives now. Raises NotAllowed for an
    outsider or a student inside the no-cancel window (with the policy), Conflict when the
    session started or is not cancellable. `admin_of`: the server the actor administers."""
    quote, _, _ = await _quote(uow, booking_id, actor_id, now=now, admin_of=admin_of)
    return quote


async def cancel_booking(uow_factory: CancelUnitOfWorkFactory, booking_id: int, actor_id: int,
                         *, now: datetime, reason: str, admin_of: int | None = None) -> Cancelled:
    """Cancel now, deciding everything again by `now` (the time of confirmation): status
    `cancelled` (the slot is free again), a history row with actor and reason, the refund row
    (the policy amount for the student, everything for the coach or an admin) and an audit
    entry, all in one transaction. The caller sends `refund_id` to the provider afterwards."""
    text = clean_reason(reason)
    async with uow_factory(immediate=True) as uow:
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"Booking #{booking_id} does not exist.")
        await uow.bookings.lock_coach(booking.coach_id)
        quote, coach, _ = await _quote(uow, booking_id, actor_id, now=now, admin_of=admin_of)
        previous = booking.status
        booking.status = "cancelled"
        who = {STUDENT: "the student", COACH: "the coach", ADMIN: "a server admin"}[quote.role]
        await uow.bookings.record_status(booking.id, previous, "cancelled", at=now,
                                         actor_id=actor_id, reason=f"cancelled by {who}: {text}")
        refund = None
        if quote.paid_minor is not None and quote.refund_minor > 0:
            refund = await plan_refund(uow, booking.id, now=now,
                                       reason=f"cancelled by {who}: {text}"[:500],
                                       amount_minor=quote.refund_minor if quote.by_student
                                       else None,
                                       full=not quote.by_student)
        credit_returned = False
        if quote.credit and quote.credit_back:
            credit_returned = await return_credit(uow, booking.id,  # type: ignore[arg-type]
                                                  now=now)
        refunded = refund.amount_minor if refund is not None else 0
        await uow.audit.add(
            guild_id=booking.guild_id, actor_id=actor_id, action=AUDIT_ACTION,
            before={"booking_id": booking.id, "status": previous},
            after={"booking_id": booking.id, "status": "cancelled", "by": quote.role,
                   "reason": text, "refund_minor": refunded, "currency": quote.currency,
                   "credit_returned": credit_returned,
                   "start_at": booking.start_at.isoformat()},
            at=now)
        settings = await uow.guild_settings.get(booking.guild_id)
        await uow.commit()
    return Cancelled(
        quote=quote, actor_id=actor_id, student_id=booking.student_id,
        coach_user_id=coach.user_id if coach else 0,
        coach_name=coach.display_name if coach else "your coach", reason=text, at=now,
        refund_id=refund.id if refund is not None else None,
        log_channel_id=getattr(settings, "log_channel_id", None))


def refund_line(done: Cancelled) -> str:
    quote = done.quote
    if quote.credit:
        return quote.credit_text
    if quote.paid_minor is None:
        return "Free session: nothing to refund."
    if done.refund_id is None or quote.refund_minor <= 0:
        return "No refund under the cancellation policy."
    return f"Refund: {format_money(quote.refund_minor, quote.currency)} (on its way)."


def upcoming_choices(rows: Sequence[Any], current: str, *, now: datetime
                     ) -> list[tuple[str, int]]:
    """(label, booking id) of the confirmed sessions not started yet among `rows` (the
    caller's upcoming sessions), filtered by what was typed, for the autocomplete."""
    wanted = current.strip().lower().lstrip("#")
    out = []
    for row in rows:
        if row.status not in CANCELLABLE_STATUSES or row.start_at <= now:
            continue
        label = f"#{row.booking_id} {row.offering_title} · {row.start_at:%a %d %b %H:%M} UTC"
        if not wanted or wanted in label.lower():
            out.append((label[:100], row.booking_id))
    return out[:25]
