"""Waitlist entries: who waits for which coach, and the times offered to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.waitlist import WaitlistEntry

ACTIVE: tuple[str, ...] = ("waiting", "offered")


class WaitlistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, **fields: Any) -> WaitlistEntry:
        entry = WaitlistEntry(**fields)
        self._session.add(entry)
        await self._session.flush()
        return entry

    async def get(self, entry_id: int) -> WaitlistEntry | None:
        return await self._session.get(WaitlistEntry, entry_id, populate_existing=True)

    async def update(self, entry: WaitlistEntry, **fields: Any) -> WaitlistEntry:
        for name, value in fields.items():
            setattr(entry, name, value)
        await self._session.flush()
        return entry

    async def active_of_student(self, guild_id: int, student_id: int) -> Sequence[WaitlistEntry]:
        """The student's entries still waiting or holding an offer, oldest first."""
        statement = (select(WaitlistEntry)
                     .where(WaitlistEntry.guild_id == guild_id,
                            WaitlistEntry.student_id == student_id,
                            WaitlistEntry.status.in_(ACTIVE))
                     .order_by(WaitlistEntry.created_at, WaitlistEntry.id))
        return list(await self._session.scalars(statement))

    async def active_of_coach(self, coach_id: int) -> Sequence[WaitlistEntry]:
        """The coach's entries still waiting or holding an offer, in the order they joined."""
        statement = (select(WaitlistEntry)
                     .where(WaitlistEntry.coach_id == coach_id,
                            WaitlistEntry.status.in_(ACTIVE))
                     .order_by(WaitlistEntry.created_at, WaitlistEntry.id))
        return list(await self._session.scalars(statement))

    async def offers_due(self, now: datetime, limit: int = 100) -> Sequence[WaitlistEntry]:
        """Offers whose time to answer ran out."""
        statement = (select(WaitlistEntry)
                     .where(WaitlistEntry.status == "offered",
                            WaitlistEntry.offer_expires_at <= now)
                     .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id).limit(limit))
        return list(await self._session.scalars(statement))
