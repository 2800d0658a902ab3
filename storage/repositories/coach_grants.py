"""Who may act as a coach in a server: members and roles."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CoachGrant
from storage.repositories.dialect_sql import insert_ignoring_conflict


class CoachGrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_for_guild(self, guild_id: int) -> list[CoachGrant]:
        statement = (select(CoachGrant).where(CoachGrant.guild_id == guild_id)
                     .order_by(CoachGrant.kind, CoachGrant.id))
        return list(await self._session.scalars(statement))

    async def add(self, guild_id: int, kind: str, target_id: int) -> bool:
        """Grant coaching to a member or role; False when it was already granted."""
        statement = insert_ignoring_conflict(
            self._session, CoachGrant, ["guild_id", "kind", "target_id"])
        result = await self._session.execute(
            statement.values(guild_id=guild_id, kind=kind, target_id=target_id))
        return bool(result.rowcount)

    async def remove(self, guild_id: int, kind: str, target_id: int) -> bool:
        """Withdraw a grant; False when there was none."""
        result = await self._session.execute(delete(CoachGrant).where(
            CoachGrant.guild_id == guild_id, CoachGrant.kind == kind,
            CoachGrant.target_id == target_id))
        return bool(result.rowcount)
