"""Roles the bot gave members for bookings, so that removing them later never takes away a role
a member held for another reason (``had_before``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RoleGrant


class RoleGrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_booking(self, booking_id: int) -> list[RoleGrant]:
        statement = (select(RoleGrant).where(RoleGrant.booking_id == booking_id)
                     .order_by(RoleGrant.id))
        return list(await self._session.scalars(statement))

    async def active_for_member(self, guild_id: int, user_id: int,
                                role_id: int) -> list[RoleGrant]:
        """The member's grants of that role the bot has not removed yet, oldest first."""
        statement = (select(RoleGrant)
                     .where(RoleGrant.guild_id == guild_id, RoleGrant.user_id == user_id,
                            RoleGrant.role_id == role_id, RoleGrant.removed_at.is_(None))
                     .order_by(RoleGrant.id))
        return list(await self._session.scalars(statement))

    async def record(self, *, guild_id: int, user_id: int, role_id: int, booking_id: int,
                     had_before: bool, granted_at: datetime) -> RoleGrant:
        """Record that the member holds `role_id` because of `booking_id` (`had_before`: they
        held it already, for another reason)."""
        grant = RoleGrant(guild_id=guild_id, user_id=user_id, role_id=role_id,
                          booking_id=booking_id, had_before=had_before, granted_at=granted_at)
        self._session.add(grant)
        await self._session.flush()
        return grant

    async def mark_removed(self, grant_ids: Collection[int], at: datetime) -> None:
        """Record that the bot took the role back (these grants no longer hold it)."""
        if not grant_ids:
            return
        statement = (update(RoleGrant)
                     .where(RoleGrant.id.in_(list(grant_ids)), RoleGrant.removed_at.is_(None))
                     .values(removed_at=at))
        await self._session.execute(statement)

    async def forget(self, booking_id: int, role_id: int) -> None:
        """Drop the grant recorded for a booking whose role could not be given after all."""
        await self._session.execute(delete(RoleGrant).where(
            RoleGrant.booking_id == booking_id, RoleGrant.role_id == role_id))
