"""Small builders for rows the storage tests need (coach -> offering -> booking)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.models import Booking, Coach, Offering
from storage.uow import UnitOfWork

GUILD_ID = 900_000_000_000_000_001
START = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


async def add_coach(uow: UnitOfWork, user_id: int = 1001, *, name: str = "Ada") -> Coach:
    return await uow.coaches.add(Coach(guild_id=GUILD_ID, user_id=user_id, display_name=name))


async def add_offering(uow: UnitOfWork, coach: Coach, *, capacity: int = 1) -> Offering:
    offering = Offering(
        guild_id=GUILD_ID,
        coach_id=coach.id,
        title="Manuscript review",
        price_minor=4_500,
        currency="EUR",
        capacity=capacity,
    )
    uow.session.add(offering)
    await uow.session.flush()
    return offering


def make_booking(
    offering: Offering,
    *,
    student_id: int = 2002,
    start: datetime = START,
    minutes: int = 60,
    status: str = "confirmed",
    slot_key: str | None = None,
) -> Booking:
    booking = Booking(
        guild_id=GUILD_ID,
        offering_id=offering.id,
        coach_id=offering.coach_id,
        student_id=student_id,
        status=status,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        expires_at=start - timedelta(hours=1) if status == "pending_payment" else None,
    )
    if slot_key is not None:
        booking.slot_key = slot_key
    return booking


async def seed_coach_and_offering(uow: UnitOfWork, *, capacity: int = 1) -> tuple[Coach, Offering]:
    coach = await add_coach(uow)
    return coach, await add_offering(uow, coach, capacity=capacity)
