"""Bookings and the locking that keeps a coach from being double-booked."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking
from storage.models.values import ACTIVE_BOOKING_STATUSES
from storage.repositories.dialect_sql import dialect_name

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
