"""Coach profiles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Coach


class CoachRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_by_user(self, guild_id: int, user_id: int) -> Coach | None:
        """The coach profile of a member in a server, if any."""
        statement = select(Coach).where(Coach.guild_id == guild_id, Coach.user_id == user_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def add(self, coach: Coach) -> Coach:
        """Stage a new coach and flush it so its ``id`` is known (a duplicate member raises
        ``IntegrityError``)."""
        self._session.add(coach)
        await self._session.flush()
        return coach

    async def list_for_guild(self, guild_id: int) -> list[Coach]:
        """Every coach of a server, by display name."""
        statement = (
            select(Coach).where(Coach.guild_id == guild_id).order_by(Coach.display_name, Coach.id)
        )
        return list(await self._session.scalars(statement))
