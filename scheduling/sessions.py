"""The caller's sessions (`/sessions`): upcoming and past, as student and as coach, paged.

Upcoming: active bookings (confirmed, in progress, awaiting payment) that have not ended,
soonest first. Past: sessions that ended, were cancelled or marked no-show, latest first.
Abandoned payment holds are in neither. Pure: storage comes in through the Protocols below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Protocol

from scheduling.money import Money
from scheduling.provisioning import channel_url

PAGE_SIZE: Final = 4  # each session gets a row of buttons; a message holds 5 rows
ACTIVE: Final = ("confirmed", "in_progress")
STATUS_LABELS: Final = {
    "pending_payment": "Waiting for payment",
    "confirmed": "Confirmed",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "expired": "Expired",
    "no_show_student": "Student did not show up",
    "no_show_coach": "Coach did not show up",
}


class SessionRecord(Protocol):
    booking_id: int
    guild_id: int
    status: str
    start_at: datetime
    end_at: datetime
    student_id: int
    coach_user_id: int
    coach_name: str
    offering_title: str
    session_type: str
    location_kind: str
    text_channel_id: int | None
    voice_channel_id: int | None
    join_url: str | None


class SessionBookings(Protocol):
    async def sessions_of_user(self, guild_id: int, user_id: int, *, upcoming: bool,
                               now: datetime, offset: int = 0, limit: int = 10
                               ) -> Sequence[SessionRecord]: ...

    async def count_sessions_of_user(self, guild_id: int, user_id: int, *, upcoming: bool,
                                     now: datetime) -> int: ...


class PaymentRecord(Protocol):
    id: int
    status: str
    amount_minor: int
    currency: str


class RefundRecord(Protocol):
    status: str
    amount_minor: int


class SessionPayments(Protocol):
    async def for_booking(self, booking_id: int) -> PaymentRecord | None: ...

    async def refunds_of(self, payment_id: int) -> Sequence[RefundRecord]: ...


class SessionsUnitOfWork(Protocol):
    bookings: SessionBookings
    payments: SessionPayments


@dataclass(frozen=True)
class SessionItem:
    booking_id: int
    title: str
    as_coach: bool
    with_text: str  # "Coach <@1> (Carla)" / "Student <@2>"
    start: datetime
    end: datetime
    status: str
    where: str | None  # channel mentions
    join_link: str | None  # only for sessions that can still be joined
    payment: str | None = None  # "Paid $25.00", ...; None for free sessions


@dataclass(frozen=True)
class SessionsPage:
    upcoming: bool
    page: int  # 0-based, clamped
    pages: int
    total: int
    items: tuple[SessionItem, ...]

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


def status_text(record: SessionRecord, now: datetime) -> str:
    if record.status in ACTIVE and record.end_at <= now:
        return "Ended"
    if record.status == "confirmed" and record.start_at <= now:
        return "In progress"
    return STATUS_LABELS.get(record.status, record.status.replace("_", " ").capitalize())


def join_link_of(record: SessionRecord, now: datetime) -> str | None:
    """Where Join goes (the meeting link, else the private voice channel) while the session
    is booked and has not ended."""
    if record.status not in ACTIVE or record.end_at <= now:
        return None
    if record.join_url:
        return record.join_url
    if record.voice_channel_id is not None:
        return channel_url(record.guild_id, record.voice_channel_id)
    return None


def payment_text(payment: PaymentRecord | None,
                 refunds: Sequence[RefundRecord] = ()) -> str | None:
    """The session's payment as its participants read it (None: nothing to pay)."""
    if payment is None:
        return None
    amount = Money(payment.amount_minor, payment.currency)
    refunded = Money(sum(r.amount_minor for r in refunds if r.status == "succeeded"),
                     payment.currency)
    if payment.status == "paid":
        return f"Paid {amount}"
    if payment.status == "refunded":
        return f"Paid {amount}, refunded in full"
    if payment.status == "partially_refunded":
        return (f"Paid {amount}, {refunded} refunded" if refunded.minor
                else f"Paid {amount}, partly refunded")
    if payment.status == "pending":
        return f"{amount} not paid yet"
    if payment.status == "failed":
        return f"Payment of {amount} failed"
    if payment.status == "expired":
        return f"Not paid ({amount}): the payment page expired"
    return f"{amount}: {payment.status.replace('_', ' ')}"


def item_for(record: SessionRecord, user_id: int, now: datetime) -> SessionItem:
    as_coach = record.coach_user_id == user_id and record.student_id != user_id
    with_text = (f"Student <@{record.student_id}>" if as_coach
                 else f"Coach <@{record.coach_user_id}> ({record.coach_name})")
    places = [f"<#{c}>" for c in (record.text_channel_id, record.voice_channel_id)
              if c is not None]
    return SessionItem(
        booking_id=record.booking_id, title=record.offering_title, as_coach=as_coach,
        with_text=with_text, start=record.start_at, end=record.end_at,
        status=status_text(record, now), where=" · ".join(places) or None,
        join_link=join_link_of(record, now))


async def sessions_page(uow: SessionsUnitOfWork, *, guild_id: int, user_id: int,
                        upcoming: bool, page: int, now: datetime,
                        page_size: int = PAGE_SIZE) -> SessionsPage:
    """One page of the member's upcoming or past sessions in the server (page clamped)."""
    total = await uow.bookings.count_sessions_of_user(guild_id, user_id, upcoming=upcoming,
                                                      now=now)
    pages = max(1, -(-total // page_size))
    page = max(0, min(page, pages - 1))
    records = await uow.bookings.sessions_of_user(guild_id, user_id, upcoming=upcoming, now=now,
                                                  offset=page * page_size, limit=page_size)
    items = []
    for record in records:
        item = item_for(record, user_id, now)
        payment = await uow.payments.for_booking(record.booking_id)
        if payment is not None:
            refunds = (await uow.payments.refunds_of(payment.id)
                       if payment.status == "partially_refunded" else ())
            item = replace(item, payment=payment_text(payment, refunds))
        items.append(item)
    return SessionsPage(upcoming, page, pages, total, tuple(items))
