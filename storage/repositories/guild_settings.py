"""Per-server settings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GuildSettings
from storage.repositories.dialect_sql import insert_ignoring_conflict


class GuildSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, guild_id: int) -> GuildSettings | None:
        """The server's settings, or ``None`` if it was never configured."""
        return await self._session.get(GuildSettings, guild_id)

    async def get_or_create(self, guild_id: int) -> GuildSettings:
        """The server's settings, created with defaults if missing (safe against a concurrent
        creator: the insert skips an existing row instead of failing)."""
        settings = await self.get(guild_id)
        if settings is not None:
            return settings
        statement = insert_ignoring_conflict(self._session, GuildSettings, ["guild_id"])
        await self._session.execute(statement.values(guild_id=guild_id))
        settings = await self.get(guild_id)
        if settings is None:
            raise RuntimeError(f"guild_settings row for {guild_id} vanished after insert")
        return settings
