"""Per-server settings, and the per-server counts `/coaching doctor` needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GuildSettings, Offering
from storage.repositories.dialect_sql import insert_ignoring_conflict

# Columns an admin changes through `/coaching setup` (the others have their own commands).
_UPDATABLE = frozenset({
    "access_role_id", "category_id", "log_channel_id", "required_role_id", "currency",
    "default_policy", "platform_fee_percent", "channel_retention_days",
    "referral_commission_percent",
})


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

    async def update(self, guild_id: int, **values: Any) -> GuildSettings:
        """Set configuration columns (creating the row with defaults first) and flush.
        JSON values are stored as given (assigned, never mutated in place)."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"guild_settings has no updatable columns {sorted(unknown)}")
        settings = await self.get_or_create(guild_id)
        for key, value in values.items():
            setattr(settings, key, dict(value) if isinstance(value, dict) else value)
        await self._session.flush()
        return settings

    async def count_paid_published_offerings(self, guild_id: int) -> int:
        """Published offerings with a price (students must pay through Stripe to book them)."""
        statement = select(func.count()).select_from(Offering).where(
            Offering.guild_id == guild_id, Offering.status == "published",
            Offering.price_minor > 0)
        return int(await self._session.scalar(statement) or 0)
