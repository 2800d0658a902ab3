"""Materials shared for a session (references to Discord attachments, links and notes), and
the sessions a member may share them for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Coach, Material, Offering


@dataclass(frozen=True)
class SessionRef:
    """A booking with what the materials service needs to know about it."""

    booking: Booking
    offering_title: str
    coach_user_id: int


class MaterialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_booking(self, booking_id: int) -> list[Material]:
        statement = (select(Material).where(Material.booking_id == booking_id)
                     .order_by(Material.created_at, Material.id))
        return list(await self._session.scalars(statement))

    async def add(self, *, booking_id: int, uploader_id: int, kind: str, title: str,
                  url: str | None, body: str | None, message_id: int | None,
                  at: datetime) -> Material:
        material = Material(booking_id=booking_id, uploader_id=uploader_id, kind=kind,
                            title=title, url=url, body=body, message_id=message_id,
                            created_at=at)
        self._session.add(material)
        await self._session.flush()
        return material

    async def session(self, booking_id: int) -> SessionRef | None:
        statement = (select(Booking, Offering.title, Coach.user_id)
                     .join(Offering, Offering.id == Booking.offering_id)
                     .join(Coach, Coach.id == Booking.coach_id)
                     .where(Booking.id == booking_id))
        row = (await self._session.execute(statement)).one_or_none()
        return None if row is None else SessionRef(row[0], row[1], row[2])

    async def sessions_of(self, guild_id: int, user_id: int, statuses: tuple[str, ...], *,
                          limit: int = 25) -> list[SessionRef]:
        """The member's sessions on the server (as student or as coach), latest first."""
        statement = (select(Booking, Offering.title, Coach.user_id)
                     .join(Offering, Offering.id == Booking.offering_id)
                     .join(Coach, Coach.id == Booking.coach_id)
                     .where(Booking.guild_id == guild_id, Booking.status.in_(statuses),
                            or_(Booking.student_id == user_id, Coach.user_id == user_id))
                     .order_by(Booking.start_at.desc(), Booking.id.desc()).limit(limit))
        rows = (await self._session.execute(statement)).all()
        return [SessionRef(r[0], r[1], r[2]) for r in rows]
