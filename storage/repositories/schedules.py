"""A coach's schedules with their weekly windows and date overrides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, select
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

    async def lock(self, schedule_id: int) -> None:
        """Serialise read-modify-write of one schedule's hours: ``SELECT ... FOR UPDATE`` on
        PostgreSQL until the transaction ends. SQLite has no row locks; there the unit of work
        must be ``immediate`` instead."""
        await self._session.execute(
            select(Schedule.id).where(Schedule.id == schedule_id).with_for_update())

    async def set_timezone(self, schedule_id: int, timezone: str) -> Schedule:
        schedule = await self.get(schedule_id)
        if schedule is None:
            raise LookupError(f"schedule {schedule_id} does not exist")
        schedule.timezone = timezone
        await self._session.flush()
        return schedule

    # ------------------------------------------------------------ weekly windows

    async def windows(self, schedule_id: int, weekday: int | None = None
                      ) -> list[AvailabilityWindow]:
        """The weekly windows, by weekday and start; only one weekday's when given."""
        statement = select(AvailabilityWindow).where(
            AvailabilityWindow.schedule_id == schedule_id)
        if weekday is not None:
            statement = statement.where(AvailabilityWindow.weekday == weekday)
        statement = statement.order_by(AvailabilityWindow.weekday,
                                       AvailabilityWindow.start_minute)
        return list(await self._session.scalars(statement))

    async def replace_windows(self, schedule_id: int, weekday: int,
                              windows: Iterable[tuple[int, int]]) -> list[AvailabilityWindow]:
        """Make ``windows`` (start, end minutes) the weekday's only windows."""
        await self.clear_windows(schedule_id, weekday)
        rows = [AvailabilityWindow(schedule_id=schedule_id, weekday=weekday,
                                   start_minute=start, end_minute=end)
                for start, end in windows]
        self._session.add_all(rows)
        await self._session.flush()
        return rows

    async def clear_windows(self, schedule_id: int, weekday: int | None = None) -> int:
        """Delete the weekday's windows (every weekday's when None); how many were deleted."""
        statement = delete(AvailabilityWindow).where(
            AvailabilityWindow.schedule_id == schedule_id)
        if weekday is not None:
            statement = statement.where(AvailabilityWindow.weekday == weekday)
        result = await self._session.execute(statement)
        return int(result.rowcount or 0)

    # ------------------------------------------------------------ date overrides

    async def overrides(self, schedule_id: int, *, since: date | None = None,
                        day: date | None = None) -> list[DateOverride]:
        """Override rows by date and start (a day-off row, with NULL minutes, first); only
        from ``since`` on, or only for ``day``, when given."""
        statement = select(DateOverride).where(DateOverride.schedule_id == schedule_id)
        if since is not None:
            statement = statement.where(DateOverride.day >= since)
        if day is not None:
            statement = statement.where(DateOverride.day == day)
        statement = statement.order_by(DateOverride.day,
                                       DateOverride.start_minute.is_not(None),
                                       DateOverride.start_minute)
        return list(await self._session.scalars(statement))

    async def replace_overrides(self, schedule_id: int, day: date,
                                windows: Iterable[tuple[int, int]] | None
                                ) -> list[DateOverride]:
        """Make ``windows`` the only override hours of ``day``; ``None`` blocks the whole day
        (one row with NULL minutes)."""
        await self.remove_overrides(schedule_id, day)
        if windows is None:
            rows = [DateOverride(schedule_id=schedule_id, day=day,
                                 start_minute=None, end_minute=None)]
        else:
            rows = [DateOverride(schedule_id=schedule_id, day=day,
                                 start_minute=start, end_minute=end) for start, end in windows]
        self._session.add_all(rows)
        await self._session.flush()
        return rows

    async def remove_overrides(self, schedule_id: int, day: date) -> int:
        """Delete every override row of ``day``; how many were deleted."""
        result = await self._session.execute(delete(DateOverride).where(
            DateOverride.schedule_id == schedule_id, DateOverride.day == day))
        return int(result.rowcount or 0)
