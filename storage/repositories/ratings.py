"""Students' ratings of their sessions (one per booking)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Rating
from storage.repositories.dialect_sql import insert_ignoring_conflict


class RatingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_booking(self, booking_id: int, *, for_update: bool = False) -> Rating | None:
        """The booking's rating; `for_update` locks the row until the transaction ends
        (PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE instead)."""
        statement = select(Rating).where(Rating.booking_id == booking_id)
        if for_update:
            statement = statement.with_for_update()
        result = await self._session.scalars(
            statement.execution_options(populate_existing=True))
        return result.one_or_none()

    async def create(self, *, booking_id: int, student_id: int, coach_id: int, stars: int,
                     at: datetime) -> Rating | None:
        """Insert the first rating of a booking; None when one exists already (a concurrent
        insert is skipped, never an error that would abort the transaction)."""
        statement = insert_ignoring_conflict(self._session, Rating, ["booking_id"]).values(
            booking_id=booking_id, student_id=student_id, coach_id=coach_id, stars=stars,
            show_name=False, created_at=at, updated_at=at)
        if not (await self._session.execute(statement)).rowcount:
            return None
        return await self.for_booking(booking_id)

    async def change(self, rating: Rating, *, at: datetime, stars: int | None = None,
                     feedback: str | None = None, clear_feedback: bool = False) -> None:
        if stars is not None:
            rating.stars = stars
        if feedback is not None:
            rating.feedback = feedback
        elif clear_feedback:
            rating.feedback = None
        rating.updated_at = at
        await self._session.flush()

    async def for_coach(self, coach_id: int) -> list[Rating]:
        statement = (select(Rating).where(Rating.coach_id == coach_id)
                     .order_by(Rating.created_at, Rating.id))
        return list(await self._session.scalars(statement))
