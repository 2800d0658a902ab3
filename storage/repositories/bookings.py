"""Bookings and the locking that keeps a coach from being double-booked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.booking_rules import BusyBooking
from scheduling.errors import SlotTaken
from storage.models import EXCLUSION_CONSTRAINT_NAME, Booking, BookingStatusChange, Offering
from storage.models.values import ACTIVE_BOOKING_STATUSES
from storage.repositories.dialect_sql import dialect_name

# Longest a booking can last (offerings allow 480 minutes; add-ons may extend it). Lets range
# queries bound start_at from below, so the (coach_id, start_at) index is used.
MAX_BOOKING_LENGTH: Final = timedelta(days=1)

# First key of the two-key advisory lock, so coach locks never collide with other lock users.
COACH_LOCK_NAMESPACE: Final = 0x43_42  # "CB"


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, booking: Booking) -> Booking:
        """Stage a booking and flush it. On PostgreSQL an overlap with another active booking
        of the coach raises ``IntegrityError`` (the exclusion constraint) right here."""
        self._session.add(booking)
        await self._session.flush()
        return booking

    async def create(self, **fields: Any) -> Booking:
        """Insert a booking; a `slot_key` of None means a 1-on-1 booking (unique key).

        An overlap refused by the PostgreSQL exclusion constraint becomes SlotTaken, leaving the
        transaction aborted: the caller's unit of work must end.
        """
        if fields.get("slot_key") is None:
            fields.pop("slot_key", None)
        try:
            return await self.add(Booking(**fields))
        except IntegrityError as exc:
            if EXCLUSION_CONSTRAINT_NAME in str(exc.orig):
                raise SlotTaken("That time was just taken.") from exc
            raise

    async def record_status(self, booking_id: int, from_status: str | None, to_status: str, *,
                            at: datetime, actor_id: int | None,
                            reason: str | None = None) -> None:
        self._session.add(BookingStatusChange(
            booking_id=booking_id, from_status=from_status, to_status=to_status, at=at,
            actor_id=actor_id, reason=reason))
        await self._session.flush()

    async def expire_stale_holds(self, coach_id: int, now: datetime) -> list[int]:
        """Mark the coach's unpaid holds whose time ran out as expired; return their ids."""
        statement = select(Booking).where(
            Booking.coach_id == coach_id, Booking.status == "pending_payment",
            Booking.expires_at <= now)
        expired = list(await self._session.scalars(statement))
        for booking in expired:
            booking.status = "expired"
            self._session.add(BookingStatusChange(
                booking_id=booking.id, from_status="pending_payment", to_status="expired",
                at=now, reason="payment hold ran out"))
        await self._session.flush()
        return [b.id for b in expired]

    async def busy_for_coach(self, coach_id: int, start: datetime, end: datetime,
                             now: datetime) -> list[BusyBooking]:
        """Active bookings of the coach intersecting `[start, end)` with their offering's
        buffers; holds whose time ran out are not busy (even before they are marked expired)."""
        statement = (
            select(Booking.start_at, Booking.end_at, Booking.offering_id, Booking.slot_key,
                   Offering.buffer_before_minutes, Offering.buffer_after_minutes)
            .join(Offering, Offering.id == Booking.offering_id)
            .where(
                Booking.coach_id == coach_id,
                Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                Booking.start_at >= start - MAX_BOOKING_LENGTH,
                Booking.start_at < end,
                Booking.end_at > start,
                or_(Booking.status != "pending_payment", Booking.expires_at > now),
            )
        )
        return [
            BusyBooking(row.start_at, row.end_at, row.offering_id, row.slot_key,
                        timedelta(minutes=row.buffer_before_minutes),
                        timedelta(minutes=row.buffer_after_minutes))
            for row in await self._session.execute(statement)
        ]

    async def count_upcoming_for_student(self, offering_id: int, student_id: int,
                                         now: datetime) -> int:
        """Active bookings of the student for the offering that have not ended yet."""
        statement = select(func.count()).select_from(Booking).where(
            Booking.offering_id == offering_id, Booking.student_id == student_id,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES), Booking.end_at > now,
            or_(Booking.status != "pending_payment", Booking.expires_at > now))
        return int((await self._session.execute(statement)).scalar_one())

    async def get(self, booking_id: int) -> Booking | None:
        return await self._session.get(Booking, booking_id)

    async def overlapping_active(
        self, coach_id: int, start: datetime, end: datetime
    ) -> list[Booking]:
        """Active bookings (``pending_payment``, ``confirmed``, ``in_progress``) of the coach
        whose ``[start_at, end_at)`` intersects ``[start, end)``, earliest first.

        Unpaid holds count until they are marked expired, exactly like the PostgreSQL
        exclusion constraint. To act on the answer safely, call it inside
        ``UnitOfWork(..., immediate=True)`` on SQLite or after :meth:`lock_coach`.
        """
        if end <= start:
            raise ValueError("end must be after start")
        statement = (
            select(Booking)
            .where(
                Booking.coach_id == coach_id,
                Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .order_by(Booking.start_at, Booking.id)
        )
        return list(await self._session.scalars(statement))

    async def lock_coach(self, coach_id: int) -> None:
        """Serialise booking changes for one coach until the transaction ends.

        PostgreSQL: ``pg_advisory_xact_lock``. SQLite needs nothing here: a unit of work opened
        with ``immediate=True`` already holds the database's write lock.
        """
        if dialect_name(self._session) != "postgresql":
            return
        lock = func.pg_advisory_xact_lock(COACH_LOCK_NAMESPACE, coach_id)
        await self._session.execute(select(lock))
