"""Deduplication of provider webhook events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedWebhookEvent
from storage.repositories.dialect_sql import insert_ignoring_conflict, inserted_count
from storage.types import utcnow


class WebhookEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, event_id: str, type: str, received_at: datetime | None = None) -> bool:
        """Mark ``event_id`` as processed; ``False`` if it already was (so skip it).

        Call it in the transaction that applies the event: if that transaction rolls back, the
        event counts as unprocessed again. A duplicate never raises, so the transaction stays
        usable on PostgreSQL.
        """
        statement = insert_ignoring_conflict(self._session, ProcessedWebhookEvent, ["event_id"])
        result = await self._session.execute(
            statement.values(
                event_id=event_id,
                type=type,
                received_at=received_at if received_at is not None else utcnow(),
            )
        )
        return inserted_count(result) == 1
