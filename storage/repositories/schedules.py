"""A coach's schedules with their weekly windows and date overrides."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AvailabilityWindow, DateOverride, Schedule


class ScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, schedule_id: int) -> Schedule | None:
        return await self._session.get(Schedule, schedule_id)

    async def get_by_name(self, coach_id: int, name: str) -> Schedule | None:
        statement = select(Schedule).where(Schedule.coach_id == coach_id, Schedule.name == name)
        return (await self._session.scalars(statement)).one_or_none()

    async def list_for_coach(self, coach_id: int) -> list[Schedule]:
        statement = (select(Schedule).where(Schedule.coach_id == coach_id)
                     .order_by(Schedule.is_default.desc(), Schedule.name))
        return list(await self._session.scalars(statement))

    async def create(self, *, coach_id: int, name: str, timezone: str,
                     is_default: bool = False) -> Schedule:
        schedule = Schedule(coach_id=coach_id, name=name, timezone=timezone,
                            is_default=is_default)
        self._session.add(schedule)
        await self._session.flush()
        return schedule

    async def windows(self, schedule_id: int) -> list[AvailabilityWindow]:
        statement = (select(AvailabilityWindow)
                     .where(AvailabilityWindow.schedule_id == schedule_id)
                     .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_minute))
        return list(await self._session.scalars(statement))

    async def overrides(self, schedule_id: int) -> list[DateOverride]:
        statement = (select(DateOverride).where(DateOverride.schedule_id == schedule_id)
                     .order_by(DateOverride.day, DateOverride.start_minute))
        return list(await self._session.scalars(statement))
