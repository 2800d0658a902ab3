"""The configuration audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry
from storage.types import utcnow


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        guild_id: int,
        actor_id: int,
        action: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Record that ``actor_id`` did ``action`` in ``guild_id`` (``at`` defaults to now)."""
        entry = AuditEntry(
            guild_id=guild_id,
            actor_id=actor_id,
            action=action,
            before=before,
            after=after,
            at=at if at is not None else utcnow(),
        )
        self._session.add(entry)
        await self._session.flush()
        return entry

    async def list_for_guild(self, guild_id: int, *, limit: int = 50) -> list[AuditEntry]:
        """The server's most recent entries, newest first."""
        statement = (select(AuditEntry).where(AuditEntry.guild_id == guild_id)
                     .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
        return list(await self._session.scalars(statement))
