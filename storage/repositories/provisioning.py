"""The record of a booking's Discord side effects (`provisioning_steps`) and what provisioning
reads and writes on the booking itself (its channels and join link).

See `scheduling/provisioning.py` for the meaning of each step and status.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.provisioning import (
    DONE,
    FAILED,
    IN_FLIGHT,
    PENDING,
    PROVISIONED_STATUSES,
    SessionLocation,
)
from storage.models import Booking, Coach, GuildSettings, Offering, ProvisioningStep
from storage.models.values import ACTIVE_BOOKING_STATUSES
from storage.repositories.dialect_sql import insert_ignoring_conflict

LOCATION_FIELDS: Final = frozenset({"text_channel_id", "voice_channel_id", "join_url"})
GAVE_UP: Final = "given up: the booking ended or stopped being active first. Last error: "


@dataclass
class ProvisioningContext:
    """Everything provisioning reads about one booking, loaded together."""

    booking: Booking
    offering: Offering
    coach: Coach
    settings: GuildSettings | None
    steps: list[ProvisioningStep]


class ProvisioningRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def context(self, booking_id: int) -> ProvisioningContext | None:
        """The booking with its offering, coach, server settings and step records."""
        statement = (select(Booking, Offering, Coach)
                     .join(Offering, Offering.id == Booking.offering_id)
                     .join(Coach, Coach.id == Booking.coach_id)
                     .where(Booking.id == booking_id))
        row = (await self._session.execute(statement)).one_or_none()
        if row is None:
            return None
        booking, offering, coach = row
        settings = await self._session.get(GuildSettings, booking.guild_id)
        return ProvisioningContext(booking, offering, coach, settings,
                                   await self.steps_for(booking_id))

    async def steps_for(self, booking_id: int) -> list[ProvisioningStep]:
        statement = (select(ProvisioningStep).where(ProvisioningStep.booking_id == booking_id)
                     .order_by(ProvisioningStep.id))
        return list(await self._session.scalars(statement))

    async def _row(self, booking_id: int, step: str) -> ProvisioningStep:
        """The step's row, inserted as pending first if it does not exist (a concurrent insert
        by another process is skipped, never an error)."""
        insert = insert_ignoring_conflict(self._session, ProvisioningStep,
                                          ["booking_id", "step"])
        await self._session.execute(insert.values(booking_id=booking_id, step=step,
                                                  status=PENDING, attempts=0))
        statement = select(ProvisioningStep).where(ProvisioningStep.booking_id == booking_id,
                                                   ProvisioningStep.step == step)
        return (await self._session.scalars(statement.execution_options(
            populate_existing=True))).one()

    async def begin(self, booking_id: int, step: str) -> ProvisioningStep:
        """Count an attempt and mark it in flight (commit before the side effect): if the
        process stops before `finish`, the next attempt knows to look for what this one made."""
        row = await self._row(booking_id, step)
        row.attempts += 1
        row.last_error = IN_FLIGHT
        await self._session.flush()
        return row

    async def finish(self, booking_id: int, step: str, status: str, *,
                     external_id: int | None = None, detail: str | None = None,
                     count_attempt: bool = False) -> ProvisioningStep:
        """Record a step's result: `done` (with the id it made and an optional note) or
        `pending` with the error of a failed attempt (`failed` only when giving up).
        `count_attempt`: this attempt was not counted by `begin`."""
        if status not in (PENDING, DONE, FAILED):
            raise ValueError(f"unknown provisioning status {status!r}")
        row = await self._row(booking_id, step)
        if count_attempt:
            row.attempts += 1
        row.status = status
        if external_id is not None:
            row.external_id = external_id
        row.last_error = detail
        await self._session.flush()
        return row

    async def set_location(self, booking_id: int, **fields: Any) -> None:
        """Store the booking's private channels and join link."""
        unknown = set(fields) - LOCATION_FIELDS
        if unknown:
            raise ValueError(f"not location fields: {sorted(unknown)}")
        booking = await self._session.get(Booking, booking_id)
        if booking is None:
            raise LookupError(f"booking {booking_id} does not exist")
        for name, value in fields.items():
            setattr(booking, name, value)
        await self._session.flush()

    async def group_location(self, booking: Booking) -> SessionLocation:
        """Where the other active seats of the same group session meet (their channels and
        room are shared); empty for 1-on-1 sessions."""
        statement = (select(Booking.text_channel_id, Booking.voice_channel_id, Booking.join_url)
                     .where(Booking.slot_key == booking.slot_key, Booking.id != booking.id,
                            Booking.status.in_(ACTIVE_BOOKING_STATUSES))
                     .order_by(Booking.id))
        text = voice = url = None
        for row in await self._session.execute(statement):
            text = text if text is not None else row.text_channel_id
            voice = voice if voice is not None else row.voice_channel_id
            url = url if url is not None else row.join_url
        return SessionLocation(text, voice, url)

    async def unfinished_bookings(self, now: datetime, *, limit: int = 50,
                                  guild_ids: Collection[int] | None = None
                                  ) -> list[tuple[int, int]]:
        """(booking id, guild id) of active bookings not over yet whose provisioning is not
        finished: a step still pending, or no step recorded at all (the process stopped right
        after the booking was confirmed, or another process confirmed it). Soonest first;
        only in `guild_ids` when given (the servers this process serves)."""
        steps = ProvisioningStep
        has_pending = exists().where(steps.booking_id == Booking.id, steps.status == PENDING)
        has_any = exists().where(steps.booking_id == Booking.id)
        statement = (select(Booking.id, Booking.guild_id)
                     .where(Booking.status.in_(PROVISIONED_STATUSES), Booking.end_at > now,
                            or_(has_pending, ~has_any))
                     .order_by(Booking.start_at, Booking.id).limit(limit))
        if guild_ids is not None:
            statement = statement.where(Booking.guild_id.in_(list(guild_ids)))
        return [(row.id, row.guild_id) for row in await self._session.execute(statement)]

    async def give_up_ended(self, now: datetime) -> int:
        """Mark pending steps of bookings that ended, or are no longer active, as failed (final);
        how many steps that was."""
        over = exists().where(Booking.id == ProvisioningStep.booking_id,
                              or_(Booking.end_at <= now,
                                  Booking.status.not_in(PROVISIONED_STATUSES)))
        statement = (update(ProvisioningStep)
                     .where(ProvisioningStep.status == PENDING, over)
                     .values(status=FAILED, last_error=literal(GAVE_UP)
                             + func.coalesce(ProvisioningStep.last_error, "none"))
                     .execution_options(synchronize_session=False))
        result = await self._session.execute(statement)
        return int(result.rowcount or 0)

