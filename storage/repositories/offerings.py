"""Offerings (drafts included) and their intake questions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Offering, OfferingQuestion


class OfferingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, offering_id: int) -> Offering | None:
        return await self._session.get(Offering, offering_id)

    async def create(self, **fields: Any) -> Offering:
        offering = Offering(**fields)
        self._session.add(offering)
        await self._session.flush()
        return offering

    async def list_for_coach(self, coach_id: int, *, include_deleted: bool = False
                             ) -> list[Offering]:
        statement = select(Offering).where(Offering.coach_id == coach_id)
        if not include_deleted:
            statement = statement.where(Offering.status != "deleted")
        return list(await self._session.scalars(statement.order_by(Offering.id)))

    async def questions(self, offering_id: int) -> list[OfferingQuestion]:
        statement = (select(OfferingQuestion).where(OfferingQuestion.offering_id == offering_id)
                     .order_by(OfferingQuestion.position))
        return list(await self._session.scalars(statement))
