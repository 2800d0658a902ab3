"""Calendar feed tokens (hashed) and the sessions a feed lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, CalendarFeed, Coach, Offering


class CalendarFeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_member(self, guild_id: int, user_id: int) -> CalendarFeed | None:
        statement = select(CalendarFeed).where(CalendarFeed.guild_id == guild_id,
                                               CalendarFeed.user_id == user_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def by_hash(self, token_hash: str) -> CalendarFeed | None:
        statement = select(CalendarFeed).where(CalendarFeed.token_hash == token_hash)
        return (await self._session.scalars(statement)).one_or_none()

    async def replace(self, guild_id: int, user_id: int, token_hash: str,
                      at: datetime) -> CalendarFeed:
        feed = await self.for_member(guild_id, user_id)
        if feed is None:
            feed = CalendarFeed(guild_id=guild_id, user_id=user_id, token_hash=token_hash,
                                created_at=at)
            self._session.add(feed)
        else:
            feed.token_hash = token_hash
            feed.created_at = at
        await self._session.flush()
        return feed

    async def sessions(self, guild_id: int, user_id: int, statuses: tuple[str, ...],
                       ends_after: datetime, *, limit: int = 500,
                       ) -> list[tuple[Booking, Offering, Coach]]:
        """The member's sessions (as student or as coach) that end after `ends_after`."""
        statement = (select(Booking, Offering, Coach)
                     .join(Offering, Offering.id == Booking.offering_id)
                     .join(Coach, Coach.id == Booking.coach_id)
                     .where(Booking.guild_id == guild_id, Booking.status.in_(statuses),
                            Booking.end_at > ends_after,
                            or_(Booking.student_id == user_id, Coach.user_id == user_id))
                     .order_by(Booking.start_at, Booking.id).limit(limit))
        return [(b, o, c) for b, o, c in (await self._session.execute(statement)).all()]
