"""Times that free up and who gets them.

Abandoning a held booking (the **Cancel** button on the Pay now message):

    gone = await abandon_hold(uow_factory, gateway, booking_id, user_id, now=now)
    # -> Abandoned: the booking is `cancelled` (history row), its Checkout Session expired

Only the student may abandon, and only while the booking is held (`pending_payment`). The
Checkout Session is expired at the provider first so it can no longer be paid; the booking is
then `cancelled` (not `expired`: the student gave the time back). A payment that still arrives
(the student paid in another tab, or the provider could not be reached) never confirms a
cancelled booking: the payment webhook refunds it in full, whether or not the time was taken
meanwhile (`confirm_held` refuses anything but a held or expired booking).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from scheduling.booking import load_open_slots
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from scheduling.payments import (
    PAYMENT_EXPIRED,
    PAYMENT_PENDING,
    SESSION_EXPIRED,
    CheckoutState,
    PaymentError,
    PaymentGateway,
    PaymentUnitOfWork,
)

ABANDON_REASON: Final = "abandoned by the student before paying"
NOT_YOURS: Final = "Only the student who made this booking can give its time back."
NOT_HELD: Final = {
    "confirmed": ("This booking is paid and confirmed already. To cancel it, use `/cancel` "
                  "(its policy decides the refund)."),
    "in_progress": "This session has already started.",
    "completed": "This session is over.",
}
RELEASED: Final = "This time was released already: nothing is held and nothing was charged."

# ---------------------------------------------------------------- abandoning a held booking


@dataclass(frozen=True)
class Abandoned:
    booking_id: int
    guild_id: int
    coach_id: int
    offering_id: int
    start_at: datetime
    paid_meanwhile: bool  # the provider had the money already: the webhook refunds it in full
    session_expired: bool  # the Checkout Session can no longer be paid


AbandonUnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[PaymentUnitOfWork]]


def _not_held(status: str) -> Conflict:
    return Conflict(NOT_HELD.get(status, RELEASED))


async def abandon_hold(uow_factory: AbandonUnitOfWorkFactory, gateway: PaymentGateway | None,
                       booking_id: int, user_id: int, *, now: datetime) -> Abandoned:
    """Give a held time back at once: expire its Checkout Session, cancel the booking (with a
    history row). Raises NotFound, NotAllowed (not the student), Conflict (not held)."""
    async with uow_factory() as uow:  # read only: who, what, which session
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"Booking #{booking_id} does not exist any more.")
        if booking.student_id != user_id:
            raise NotAllowed(NOT_YOURS)
        if booking.status != "pending_payment":
            raise _not_held(booking.status)
        payment = await uow.payments.for_booking(booking_id)
        session_id = (payment.checkout_session_id
                      if payment is not None and payment.status == PAYMENT_PENDING else None)
    state: CheckoutState | None = None
    if session_id is not None and gateway is not None:
        try:
            state = await gateway.expire_checkout(session_id)
        except PaymentError:
            state = None  # it expires on its own at the hold's end; a payment is refunded
    async with uow_factory(immediate=True) as uow:
        booking = await uow.payments.lock_booking(booking_id)
        if booking is None:
            raise NotFound(f"Booking #{booking_id} does not exist any more.")
        if booking.status != "pending_payment":
            raise _not_held(booking.status)
        held = [booking]
        if booking.series_id:  # a weekly series held together is given back together
            held += [b for b in await uow.bookings.in_series(booking.series_id)
                     if b.id != booking.id and b.status == "pending_payment"]
        expired = state is not None and state.status == SESSION_EXPIRED
        for each in held:
            each.status = "cancelled"
            await uow.bookings.record_status(each.id, "pending_payment", "cancelled", at=now,
                                             actor_id=user_id, reason=ABANDON_REASON)
            payment = await uow.payments.for_booking(each.id) if expired else None
            if payment is not None and payment.status == PAYMENT_PENDING:
                await uow.payments.update(payment, status=PAYMENT_EXPIRED)
        await uow.commit()
    return Abandoned(booking.id, booking.guild_id, booking.coach_id, booking.offering_id,
                     booking.start_at, paid_meanwhile=state is not None and state.paid,
                     session_expired=expired or session_id is None)


def abandoned_text(gone: Abandoned) -> str:
    unix = int(gone.start_at.timestamp())
    text = f"Cancelled: the time <t:{unix}:F> was released for others."
    if gone.paid_meanwhile:
        return text + (" Your payment had already gone through: it is refunded in full, "
                       "you don't need to do anything.")
    if not gone.session_expired:
        return text + (" Nothing was charged; should a payment still go through, it is "
                       "refunded in full.")
    return text + " Nothing was charged. Run `/book` to pick another time."



# ---------------------------------------------------------------- the waitlist
#
#     entry = await join(uow_factory, guild_id=..., student_id=..., coach_id=..., ...)
#     offer = await offer_freed(uow_factory, coach_id, offering_id, start, now=now)
#     # -> Offer for the first waiting student whose window covers the time (or None): DM it
#     claim = await claim_offer(uow_factory, entry_id, user_id, start, now=now)  # Book
#     freed = await pass_offer(...) / expire_offers(...)  # -> offer the time to the next one
#
# An offered time is kept for its student for OFFER_MINUTES: no other waiting student is offered
# it meanwhile (`/book` still can take it: the Book button then says so and the student keeps
# waiting). Passing, timing out and leaving end the entry; the time goes to the next student.

WAITLIST_STATUSES: Final = ("waiting", "offered", "booked", "passed", "expired", "left")
OFFER_MINUTES: Final = 15
DEFAULT_DAYS: Final = 14
MAX_DAYS: Final = 60
OFFER_GONE: Final = ("This offer is no longer open (it was passed on, timed out or booked). "
                     "Run `/waitlist list` to see where you stand.")


class WaitlistEntryRecord(Protocol):
    id: int
    guild_id: int
    coach_id: int
    offering_id: int | None
    student_id: int
    days: int
    created_at: datetime
    status: str
    offered_start: datetime | None
    offered_offering_id: int | None
    offer_expires_at: datetime | None


class WaitlistEntries(Protocol):
    async def add(self, **fields: Any) -> WaitlistEntryRecord: ...

    async def get(self, entry_id: int) -> WaitlistEntryRecord | None: ...

    async def update(self, entry: WaitlistEntryRecord, **fields: Any) -> WaitlistEntryRecord: ...

    async def active_of_student(self, guild_id: int, student_id: int
                                ) -> Sequence[WaitlistEntryRecord]: ...

    async def active_of_coach(self, coach_id: int) -> Sequence[WaitlistEntryRecord]: ...

    async def offers_due(self, now: datetime, limit: int = 100
                         ) -> Sequence[WaitlistEntryRecord]: ...


class WaitlistUnitOfWork(PaymentUnitOfWork, Protocol):
    waitlist: WaitlistEntries


WaitlistUnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[WaitlistUnitOfWork]]


@dataclass(frozen=True)
class Freed:
    """A time that is free for the next waiting student."""

    coach_id: int
    offering_id: int | None
    start: datetime


@dataclass(frozen=True)
class Offer:
    entry_id: int
    student_id: int
    guild_id: int
    offering_id: int
    title: str
    coach_name: str
    start: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Claim:
    entry_id: int
    guild_id: int
    offering_id: int
    start: datetime
    paid: bool


@dataclass(frozen=True)
class EntryLine:
    coach_name: str
    offering_title: str | None  # None: any offering
    days: int
    status: str
    offered_start: datetime | None
    offer_expires_at: datetime | None


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"`days` is how far ahead you want a time: 1 to {MAX_DAYS}.")
    return days


async def join(uow_factory: WaitlistUnitOfWorkFactory, *, guild_id: int, student_id: int,
               coach_id: int, coach_user_id: int, offering_id: int | None, days: int,
               now: datetime) -> WaitlistEntryRecord:
    check_days(days)
    if student_id == coach_user_id:
        raise InvalidInput("You can't join your own waitlist.")
    async with uow_factory(immediate=True) as uow:
        for entry in await uow.waitlist.active_of_student(guild_id, student_id):
            if entry.coach_id == coach_id and entry.offering_id == offering_id:
                raise Conflict("You are on this waitlist already. `/waitlist list` shows your "
                               "places; `/waitlist leave` takes you off.")
        entry = await uow.waitlist.add(guild_id=guild_id, coach_id=coach_id,
                                       offering_id=offering_id, student_id=student_id,
                                       days=days, created_at=now, status="waiting")
        await uow.commit()
        return entry


async def entries_of(uow: WaitlistUnitOfWork, guild_id: int, student_id: int
                     ) -> list[EntryLine]:
    lines = []
    for entry in await uow.waitlist.active_of_student(guild_id, student_id):
        coach = await uow.coaches.get(entry.coach_id)
        offering = (await uow.offerings.get(entry.offering_id)
                    if entry.offering_id is not None else None)
        lines.append(EntryLine(coach.display_name if coach else "a coach",
                               offering.title if offering else None, entry.days, entry.status,
                               entry.offered_start, entry.offer_expires_at))
    return lines


async def leave(uow_factory: WaitlistUnitOfWorkFactory, guild_id: int, student_id: int
                ) -> tuple[int, list[Freed]]:
    """Take the student off every waitlist of the server; offered times go to the next one."""
    freed = []
    async with uow_factory(immediate=True) as uow:
        entries = list(await uow.waitlist.active_of_student(guild_id, student_id))
        if not entries:
            raise NotFound("You are not on any waitlist here. `/waitlist join` puts you on one.")
        for entry in entries:
            if entry.status == "offered" and entry.offered_start is not None:
                freed.append(Freed(entry.coach_id, entry.offered_offering_id,
                                   entry.offered_start))
            await uow.waitlist.update(entry, status="left")
        await uow.commit()
    return len(entries), freed


def _covers(entry: WaitlistEntryRecord, offering_id: int | None, start: datetime,
            now: datetime) -> bool:
    if entry.offering_id is not None and offering_id is not None \
            and entry.offering_id != offering_id:
        return False
    return now < start <= now + timedelta(days=entry.days)


async def offer_freed(uow_factory: WaitlistUnitOfWorkFactory, coach_id: int,
                      offering_id: int | None, start: datetime, *, now: datetime,
                      hold: timedelta = timedelta(minutes=OFFER_MINUTES)) -> Offer | None:
    """Offer a freed time to the first waiting student whose window covers it; None when
    nobody waits for it or it is kept for someone already."""
    async with uow_factory(immediate=True) as uow:
        entries = await uow.waitlist.active_of_coach(coach_id)
        for entry in entries:
            if (entry.status == "offered" and entry.offered_start == start
                    and entry.offer_expires_at is not None and entry.offer_expires_at > now):
                return None  # kept for that student
        for entry in entries:
            if entry.status != "waiting" or not _covers(entry, offering_id, start, now):
                continue
            chosen = offering_id if offering_id is not None else entry.offering_id
            if chosen is None:
                continue
            offering = await uow.offerings.get(chosen)
            if offering is None or offering.status != "published" \
                    or not await _still_open(uow, offering, start, now):
                continue
            coach = await uow.coaches.get(coach_id)
            await uow.waitlist.update(entry, status="offered", offered_start=start,
                                      offered_offering_id=chosen,
                                      offer_expires_at=now + hold)
            await uow.commit()
            return Offer(entry.id, entry.student_id, entry.guild_id, chosen, offering.title,
                         coach.display_name if coach else "your coach", start, now + hold)
    return None


async def first_open_for_waiting(uow_factory: WaitlistUnitOfWorkFactory, coach_id: int, *,
                                 now: datetime) -> tuple[int, datetime] | None:
    """After a coach adds hours: the earliest open time (offering id, start) within the window
    of the first waiting student (join order) that has one, or None."""
    async with uow_factory() as uow:
        for entry in await uow.waitlist.active_of_coach(coach_id):
            if entry.status != "waiting":
                continue
            if entry.offering_id is not None:
                offering = await uow.offerings.get(entry.offering_id)
                offerings = [offering] if offering is not None else []
            else:
                offerings = list(await uow.offerings.list_published_for_coach(coach_id))
            earliest: tuple[int, datetime] | None = None
            for offering in offerings:
                if offering.status != "published":
                    continue
                slots = await load_open_slots(uow, offering, now=now, start=now,
                                              end=now + timedelta(days=entry.days))
                if slots and (earliest is None or slots[0].start < earliest[1]):
                    earliest = (offering.id, slots[0].start)
            if earliest is not None:
                return earliest
    return None


async def _still_open(uow: WaitlistUnitOfWork, offering: Any, start: datetime,
                      now: datetime) -> bool:
    """Is `start` an open slot of the offering (not retaken meanwhile, a seat left)?"""
    end = start + timedelta(minutes=offering.duration_minutes + 1)
    slots = await load_open_slots(uow, offering, now=now, start=start, end=end)
    return any(slot.start == start for slot in slots)


async def _open_offer(uow: WaitlistUnitOfWork, entry_id: int, user_id: int, start: datetime,
                      now: datetime) -> WaitlistEntryRecord:
    entry = await uow.waitlist.get(entry_id)
    if entry is None or entry.student_id != user_id:
        raise NotAllowed("This offer was made to someone else.")
    if (entry.status != "offered" or entry.offered_start != start
            or entry.offer_expires_at is None or entry.offer_expires_at <= now):
        raise Conflict(OFFER_GONE)
    return entry


async def pass_offer(uow_factory: WaitlistUnitOfWorkFactory, entry_id: int, user_id: int,
                     start: datetime, *, now: datetime) -> Freed:
    async with uow_factory(immediate=True) as uow:
        entry = await _open_offer(uow, entry_id, user_id, start, now)
        freed = Freed(entry.coach_id, entry.offered_offering_id, start)
        await uow.waitlist.update(entry, status="passed")
        await uow.commit()
    return freed


async def drop_offer(uow_factory: WaitlistUnitOfWorkFactory, entry_id: int, *,
                     status: str = "passed") -> None:
    """End an offer that could not be delivered (the student's DMs are closed)."""
    async with uow_factory(immediate=True) as uow:
        entry = await uow.waitlist.get(entry_id)
        if entry is not None and entry.status == "offered":
            await uow.waitlist.update(entry, status=status)
            await uow.commit()


async def expire_offers(uow_factory: WaitlistUnitOfWorkFactory, *, now: datetime
                        ) -> list[Freed]:
    """Offers nobody answered in time: ended (`expired`); their times go to the next one."""
    async with uow_factory(immediate=True) as uow:
        due = list(await uow.waitlist.offers_due(now))
        freed = []
        for entry in due:
            if entry.offered_start is not None:
                freed.append(Freed(entry.coach_id, entry.offered_offering_id,
                                   entry.offered_start))
            await uow.waitlist.update(entry, status="expired")
        await uow.commit()
    return freed


async def claim_offer(uow_factory: WaitlistUnitOfWorkFactory, entry_id: int, user_id: int,
                      start: datetime, *, now: datetime) -> Claim:
    """The Book button: the offer must still be open; booking is then the normal booking."""
    async with uow_factory() as uow:  # read only
        entry = await _open_offer(uow, entry_id, user_id, start, now)
        assert entry.offered_offering_id is not None
        offering = await uow.offerings.get(entry.offered_offering_id)
        if offering is None or offering.status != "published":
            raise NotFound("This offering is no longer available.")
        return Claim(entry.id, entry.guild_id, offering.id, start,
                     paid=offering.price_minor > 0)


async def settle_claim(uow_factory: WaitlistUnitOfWorkFactory, entry_id: int, *,
                       booked: bool) -> None:
    """After the Book button: `booked`, or back to `waiting` when the time was taken."""
    async with uow_factory(immediate=True) as uow:
        entry = await uow.waitlist.get(entry_id)
        if entry is not None and entry.status == "offered":
            fields: dict[str, Any] = {"status": "booked"} if booked else {
                "status": "waiting", "offered_start": None, "offered_offering_id": None,
                "offer_expires_at": None}
            await uow.waitlist.update(entry, **fields)
            await uow.commit()
