"""Bookings and the locking that keeps a coach from being double-booked."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.booking_rules import BusyBooking
from scheduling.errors import SlotTaken
from storage.models import (
    EXCLUSION_CONSTRAINT_NAME,
    Booking,
    BookingStatusChange,
    Coach,
    GuildSettings,
    Offering,
    RoleGrant,
    SessionTask,
)
from storage.models.values import ACTIVE_BOOKING_STATUSES
from storage.repositories.dialect_sql import dialect_name

# Longest a booking can last (offerings allow 480 minutes; add-ons may extend it). Lets range
# queries bound start_at from below, so the (coach_id, start_at) index is used.
MAX_BOOKING_LENGTH: Final = timedelta(days=1)

# First key of the two-key advisory lock, so coach locks never collide with other lock users.
COACH_LOCK_NAMESPACE: Final = 0x43_42  # "CB"


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, booking: Booking) -> Booking:
        """Stage a booking and flush it. On PostgreSQL an overlap with another active booking
        of the coach raises ``IntegrityError`` (the exclusion constraint) right here."""
        self._session.add(booking)
        await self._session.flush()
        return booking

    async def create(self, **fields: Any) -> Booking:
        """Insert a booking; a `slot_key` of None means a 1-on-1 booking (unique key).

        An overlap refused by the PostgreSQL exclusion constraint becomes SlotTaken, leaving the
        transaction aborted: the caller's unit of work must end.
        """
        if fields.get("slot_key") is None:
            fields.pop("slot_key", None)
        try:
            return await self.add(Booking(**fields))
        except IntegrityError as exc:
            if EXCLUSION_CONSTRAINT_NAME in str(exc.orig):
                raise SlotTaken("That time was just taken.") from exc
            raise

    async def record_status(self, booking_id: int, from_status: str | None, to_status: str, *,
                            at: datetime, actor_id: int | None,
                            reason: str | None = None) -> None:
        self._session.add(BookingStatusChange(
            booking_id=booking_id, from_status=from_status, to_status=to_status, at=at,
            actor_id=actor_id, reason=reason))
        await self._session.flush()

    async def expire_stale_holds(self, coach_id: int, now: datetime) -> list[int]:
        """Mark the coach's unpaid holds whose time ran out as expired; return their ids."""
        statement = select(Booking).where(
            Booking.coach_id == coach_id, Booking.status == "pending_payment",
            Booking.expires_at <= now)
        expired = list(await self._session.scalars(statement))
        for booking in expired:
            booking.status = "expired"
            self._session.add(BookingStatusChange(
                booking_id=booking.id, from_status="pending_payment", to_status="expired",
                at=now, reason="payment hold ran out"))
        await self._session.flush()
        return [b.id for b in expired]

    async def busy_for_coach(self, coach_id: int, start: datetime, end: datetime,
                             now: datetime, *,
                             exclude_booking_id: int | None = None) -> list[BusyBooking]:
        """Active bookings of the coach intersecting `[start, end)` with their offering's
        buffers; holds whose time ran out are not busy (even before they are marked expired)."""
        statement = (
            select(Booking.start_at, Booking.end_at, Booking.offering_id, Booking.slot_key,
                   Offering.buffer_before_minutes, Offering.buffer_after_minutes)
            .join(Offering, Offering.id == Booking.offering_id)
            .where(
                Booking.coach_id == coach_id,
                Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                Booking.start_at >= start - MAX_BOOKING_LENGTH,
                Booking.start_at < end,
                Booking.end_at > start,
                or_(Booking.status != "pending_payment", Booking.expires_at > now),
            )
        )
        if exclude_booking_id is not None:  # a booking being moved is not busy for itself
            statement = statement.where(Booking.id != exclude_booking_id)
        return [
            BusyBooking(row.start_at, row.end_at, row.offering_id, row.slot_key,
                        timedelta(minutes=row.buffer_before_minutes),
                        timedelta(minutes=row.buffer_after_minutes))
            for row in await self._session.execute(statement)
        ]

    async def count_upcoming_for_student(self, offering_id: int, student_id: int,
                                         now: datetime) -> int:
        """Active bookings of the student for the offering that have not ended yet."""
        statement = select(func.count()).select_from(Booking).where(
            Booking.offering_id == offering_id, Booking.student_id == student_id,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES), Booking.end_at > now,
            or_(Booking.status != "pending_payment", Booking.expires_at > now))
        return int((await self._session.execute(statement)).scalar_one())

    async def in_series(self, series_id: str) -> list[Booking]:
        """Every occurrence of a weekly series, in time order."""
        statement = (select(Booking).where(Booking.series_id == series_id)
                     .order_by(Booking.start_at, Booking.id))
        return list(await self._session.scalars(statement))

    async def get(self, booking_id: int) -> Booking | None:
        return await self._session.get(Booking, booking_id)

    async def overlapping_active(
        self, coach_id: int, start: datetime, end: datetime
    ) -> list[Booking]:
        """Active bookings (``pending_payment``, ``confirmed``, ``in_progress``) of the coach
        whose ``[start_at, end_at)`` intersects ``[start, end)``, earliest first.

        Unpaid holds count until they are marked expired, exactly like the PostgreSQL
        exclusion constraint. To act on the answer safely, call it inside
        ``UnitOfWork(..., immediate=True)`` on SQLite or after :meth:`lock_coach`.
        """
        if end <= start:
            raise ValueError("end must be after start")
        statement = (
            select(Booking)
            .where(
                Booking.coach_id == coach_id,
                Booking.status.in_(ACTIVE_BOOKING_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .order_by(Booking.start_at, Booking.id)
        )
        return list(await self._session.scalars(statement))

    async def lock_coach(self, coach_id: int) -> None:
        """Serialise booking changes for one coach until the transaction ends.

        PostgreSQL: ``pg_advisory_xact_lock``. SQLite needs nothing here: a unit of work opened
        with ``immediate=True`` already holds the database's write lock.
        """
        if dialect_name(self._session) != "postgresql":
            return
        lock = func.pg_advisory_xact_lock(COACH_LOCK_NAMESPACE, coach_id)
        await self._session.execute(select(lock))

    # ------------------------------------------------------------ the session lifecycle

    async def transition(self, booking_id: int, from_statuses: Collection[str],
                         to_status: str) -> bool:
        """Set the status if it is still one of `from_statuses` (atomic: of two concurrent
        changes only one applies); whether it changed."""
        statement = (update(Booking)
                     .where(Booking.id == booking_id, Booking.status.in_(list(from_statuses)))
                     .values(status=to_status))
        return bool((await self._session.execute(statement)).rowcount)

    async def others_needing_role(self, guild_id: int, student_id: int, role_id: int, *,
                                  exclude_booking_id: int, now: datetime) -> list[int]:
        """The student's other confirmed or in-progress bookings in the server, not over yet,
        that give `role_id` (the offering's role, else the server's access role) or hold an
        active grant of it."""
        gives = func.coalesce(Offering.role_id, GuildSettings.access_role_id) == role_id
        holds = exists().where(RoleGrant.booking_id == Booking.id, RoleGrant.role_id == role_id,
                               RoleGrant.removed_at.is_(None))
        statement = (select(Booking.id)
                     .join(Offering, Offering.id == Booking.offering_id)
                     .outerjoin(GuildSettings, GuildSettings.guild_id == Booking.guild_id)
                     .where(Booking.guild_id == guild_id, Booking.student_id == student_id,
                            Booking.id != exclude_booking_id,
                            Booking.status.in_(("confirmed", "in_progress")),
                            Booking.end_at > now, or_(gives, holds))
                     .order_by(Booking.start_at, Booking.id))
        return list(await self._session.scalars(statement))

    async def channel_mates(self, booking_id: int,
                            text_channel_id: int) -> list[tuple[int, str]]:
        """(id, status) of the other bookings sharing a private channel (group seats)."""
        statement = (select(Booking.id, Booking.status)
                     .where(Booking.text_channel_id == text_channel_id,
                            Booking.id != booking_id)
                     .order_by(Booking.id))
        return [(row.id, row.status) for row in await self._session.execute(statement)]

    async def upcoming_for_student(self, student_id: int, now: datetime) -> list[Booking]:
        """The student's confirmed bookings that have not started, in every server."""
        statement = (select(Booking)
                     .where(Booking.student_id == student_id, Booking.status == "confirmed",
                            Booking.start_at > now)
                     .order_by(Booking.start_at, Booking.id))
        return list(await self._session.scalars(statement))

    async def missing_lifecycle(self, now: datetime, *, limit: int) -> list[int]:
        """Confirmed or in-progress bookings not over yet whose lifecycle was never planned."""
        planned = exists().where(SessionTask.booking_id == Booking.id)
        statement = (select(Booking.id)
                     .where(Booking.status.in_(("confirmed", "in_progress")),
                            Booking.end_at > now, ~planned)
                     .order_by(Booking.start_at, Booking.id).limit(limit))
        return list(await self._session.scalars(statement))

    # ------------------------------------------------------------ a member's sessions

    def _sessions_of_user(self, guild_id: int, user_id: int, *, upcoming: bool,
                          now: datetime) -> Select[Any]:
        mine = or_(Booking.student_id == user_id, Coach.user_id == user_id)
        if upcoming:
            when = and_(Booking.status.in_(ACTIVE_BOOKING_STATUSES), Booking.end_at > now,
                        or_(Booking.status != "pending_payment", Booking.expires_at > now))
        else:
            when = or_(Booking.status.in_(FINISHED_BOOKING_STATUSES),
                       and_(Booking.status.in_(("confirmed", "in_progress")),
                            Booking.end_at <= now))
        return (select(Booking, Offering, Coach)
                .join(Offering, Offering.id == Booking.offering_id)
                .join(Coach, Coach.id == Booking.coach_id)
                .where(Booking.guild_id == guild_id, mine, when))

    async def sessions_of_user(self, guild_id: int, user_id: int, *, upcoming: bool,
                               now: datetime, offset: int = 0, limit: int = 10
                               ) -> list[SessionRow]:
        """A member's sessions in a server, as student or as coach: upcoming (active, not
        ended; soonest first) or past (ended, cancelled, no-show; latest first). Abandoned
        payment holds are in neither."""
        statement = self._sessions_of_user(guild_id, user_id, upcoming=upcoming, now=now)
        order = ((Booking.start_at, Booking.id) if upcoming
                 else (Booking.start_at.desc(), Booking.id.desc()))
        rows = await self._session.execute(
            statement.order_by(*order).offset(max(0, offset)).limit(max(0, limit)))
        return [SessionRow.of(booking, offering, coach) for booking, offering, coach in rows]

    async def count_sessions_of_user(self, guild_id: int, user_id: int, *, upcoming: bool,
                                     now: datetime) -> int:
        statement = self._sessions_of_user(guild_id, user_id, upcoming=upcoming, now=now)
        counted = select(func.count()).select_from(statement.with_only_columns(Booking.id)
                                                   .subquery())
        return int((await self._session.execute(counted)).scalar_one())


# Statuses of sessions that are over, whatever their time says.
FINISHED_BOOKING_STATUSES: Final = ("completed", "cancelled", "no_show_student", "no_show_coach")


@dataclass(frozen=True)
class SessionRow:
    """One session as `/sessions` lists it: the booking with its offering and coach."""

    booking_id: int
    guild_id: int
    status: str
    start_at: datetime
    end_at: datetime
    student_id: int
    coach_user_id: int
    coach_name: str
    offering_title: str
    session_type: str
    location_kind: str
    text_channel_id: int | None
    voice_channel_id: int | None
    join_url: str | None

    @classmethod
    def of(cls, booking: Booking, offering: Offering, coach: Coach) -> SessionRow:
        return cls(booking_id=booking.id, guild_id=booking.guild_id, status=booking.status,
                   start_at=booking.start_at, end_at=booking.end_at,
                   student_id=booking.student_id, coach_user_id=coach.user_id,
                   coach_name=coach.display_name, offering_title=offering.title,
                   session_type=offering.session_type, location_kind=offering.location_kind,
                   text_channel_id=booking.text_channel_id,
                   voice_channel_id=booking.voice_channel_id, join_url=booking.join_url)
