"""Offerings (drafts included), their intake questions and uploaded thumbnails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Coach, Offering, OfferingAddon, OfferingQuestion
from storage.models.offerings import OfferingThumbnail
from storage.models.values import ACTIVE_BOOKING_STATUSES


@dataclass(frozen=True)
class ThumbnailInfo:
    """An uploaded thumbnail without its bytes."""

    content_type: str
    size_bytes: int
    sha256: str


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

    async def update(self, offering: Offering, **fields: Any) -> Offering:
        """Set columns of an offering and flush (JSON values are assigned, never mutated)."""
        columns = Offering.__table__.columns
        for name, value in fields.items():
            if name not in columns or name in ("id", "guild_id", "coach_id", "created_at"):
                raise AttributeError(f"offerings has no updatable column {name!r}")
            setattr(offering, name, value)
        await self._session.flush()
        return offering

    async def delete(self, offering: Offering) -> None:
        """Remove the row; its questions and thumbnail go with it (ON DELETE CASCADE). Only
        for drafts: bookings refer to offerings with ON DELETE RESTRICT."""
        await self._session.execute(delete(OfferingQuestion).where(
            OfferingQuestion.offering_id == offering.id))
        await self._session.execute(delete(OfferingThumbnail).where(
            OfferingThumbnail.offering_id == offering.id))
        await self._session.delete(offering)
        await self._session.flush()

    async def list_for_coach(self, coach_id: int, *, include_deleted: bool = False
                             ) -> list[Offering]:
        statement = select(Offering).where(Offering.coach_id == coach_id)
        if not include_deleted:
            statement = statement.where(Offering.status != "deleted")
        return list(await self._session.scalars(statement.order_by(Offering.id)))

    async def list_published(self, guild_id: int) -> list[Offering]:
        """The offerings students of a server can book, oldest first."""
        statement = (select(Offering)
                     .where(Offering.guild_id == guild_id, Offering.status == "published")
                     .order_by(Offering.id))
        return list(await self._session.scalars(statement))

    async def owner_user_id(self, offering_id: int) -> int | None:
        """The Discord user id of the coach who owns the offering."""
        statement = (select(Coach.user_id).join(Offering, Offering.coach_id == Coach.id)
                     .where(Offering.id == offering_id))
        return (await self._session.scalars(statement)).one_or_none()

    # ------------------------------------------------------------ questions

    async def questions(self, offering_id: int) -> list[OfferingQuestion]:
        statement = (select(OfferingQuestion).where(OfferingQuestion.offering_id == offering_id)
                     .order_by(OfferingQuestion.position))
        return list(await self._session.scalars(statement))

    async def replace_questions(self, offering_id: int,
                                questions: Sequence[tuple[str, str, bool]]
                                ) -> list[OfferingQuestion]:
        """Make ``questions`` (label, style, required) the offering's questions, in order."""
        await self._session.execute(
            delete(OfferingQuestion).where(OfferingQuestion.offering_id == offering_id),
            execution_options={"synchronize_session": "fetch"})
        rows = [OfferingQuestion(offering_id=offering_id, position=position, label=label,
                                 style=style, required=required)
                for position, (label, style, required) in enumerate(questions)]
        self._session.add_all(rows)
        await self._session.flush()
        return rows

    # ------------------------------------------------------------ thumbnails

    async def set_thumbnail(self, offering_id: int, *, content_type: str, data_base64: str,
                            size_bytes: int, sha256: str) -> ThumbnailInfo:
        """Store (or replace) the uploaded picture of an offering."""
        row = await self._session.get(OfferingThumbnail, offering_id)
        if row is None:
            row = OfferingThumbnail(offering_id=offering_id)
            self._session.add(row)
        row.content_type = content_type
        row.data_base64 = data_base64
        row.size_bytes = size_bytes
        row.sha256 = sha256
        await self._session.flush()
        return ThumbnailInfo(content_type, size_bytes, sha256)

    async def thumbnail_info(self, offering_id: int) -> ThumbnailInfo | None:
        statement = (select(OfferingThumbnail.content_type, OfferingThumbnail.size_bytes,
                            OfferingThumbnail.sha256)
                     .where(OfferingThumbnail.offering_id == offering_id))
        row = (await self._session.execute(statement)).one_or_none()
        return None if row is None else ThumbnailInfo(*row)

    async def thumbnail_base64(self, offering_id: int) -> str | None:
        statement = (select(OfferingThumbnail.data_base64)
                     .where(OfferingThumbnail.offering_id == offering_id))
        return (await self._session.scalars(statement)).one_or_none()

    async def delete_thumbnail(self, offering_id: int) -> bool:
        result = await self._session.execute(
            delete(OfferingThumbnail).where(OfferingThumbnail.offering_id == offering_id))
        return bool(getattr(result, "rowcount", 0))

    # ------------------------------------------------------------ bookings

    async def count_future_active_bookings(self, offering_id: int, now: datetime) -> int:
        """Active bookings (pending payment, confirmed, in progress) of the offering that have
        not ended yet: sessions ahead and the one running now."""
        statement = select(func.count(Booking.id)).where(
            Booking.offering_id == offering_id,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.end_at > now,
        )
        return int(await self._session.scalar(statement) or 0)

    async def list_published_for_coach(self, coach_id: int) -> list[Offering]:
        """The offerings of one coach that students can book, oldest first."""
        statement = (select(Offering)
                     .where(Offering.coach_id == coach_id, Offering.status == "published")
                     .order_by(Offering.id))
        return list(await self._session.scalars(statement))

    # ------------------------------------------------------------ add-ons

    async def addons(self, offering_id: int) -> list[OfferingAddon]:
        """The offering's add-ons, oldest first."""
        statement = (select(OfferingAddon).where(OfferingAddon.offering_id == offering_id)
                     .order_by(OfferingAddon.id))
        return list(await self._session.scalars(statement))

    async def add_addon(self, offering_id: int, *, name: str, price_minor: int,
                        extra_minutes: int = 0) -> OfferingAddon:
        addon = OfferingAddon(offering_id=offering_id, name=name, price_minor=price_minor,
                              extra_minutes=extra_minutes)
        self._session.add(addon)
        await self._session.flush()
        return addon

    async def delete_addon(self, addon: OfferingAddon) -> None:
        await self._session.delete(addon)
        await self._session.flush()
