"""Read-only queries behind `/coach stats` and `/coaching export`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Coach, Offering, Payment, Rating, Refund


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def bookings(self, coach_id: int, start: datetime, end: datetime) -> list[Booking]:
        """The coach's bookings that start in [start, end)."""
        statement = (select(Booking).where(Booking.coach_id == coach_id,
                                           Booking.start_at >= start, Booking.start_at < end)
                     .order_by(Booking.start_at, Booking.id))
        return list(await self._session.scalars(statement))

    async def payments(self, booking_ids: Sequence[int]) -> list[Payment]:
        if not booking_ids:
            return []
        statement = select(Payment).where(Payment.booking_id.in_(list(booking_ids)))
        return list(await self._session.scalars(statement.order_by(Payment.id)))

    async def refunds(self, payment_ids: Sequence[int]) -> list[Refund]:
        if not payment_ids:
            return []
        statement = select(Refund).where(Refund.payment_id.in_(list(payment_ids)))
        return list(await self._session.scalars(statement.order_by(Refund.id)))

    async def ratings(self, booking_ids: Sequence[int]) -> list[Rating]:
        if not booking_ids:
            return []
        statement = select(Rating).where(Rating.booking_id.in_(list(booking_ids)))
        return list(await self._session.scalars(statement.order_by(Rating.id)))

    async def guild_bookings(self, guild_id: int, start: datetime, end: datetime,
                             ) -> list[tuple[Booking, Offering, Coach]]:
        """Every booking of the server that starts in [start, end), with offering and coach."""
        statement = (select(Booking, Offering, Coach)
                     .join(Offering, Offering.id == Booking.offering_id)
                     .join(Coach, Coach.id == Booking.coach_id)
                     .where(Booking.guild_id == guild_id, Booking.start_at >= start,
                            Booking.start_at < end)
                     .order_by(Booking.start_at, Booking.id))
        return [(b, o, c) for b, o, c in (await self._session.execute(statement)).all()]
