"""Finding a coach's schedule by name; the default one is created on first use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from scheduling.coach_access import CoachRecord
from scheduling.errors import InvalidInput, NotFound

DEFAULT_SCHEDULE = "default"
MAX_SCHEDULE_NAME = 40


class ScheduleRecord(Protocol):
    id: int
    coach_id: int
    name: str
    timezone: str
    is_default: bool


class Schedules(Protocol):
    async def get_by_name(self, coach_id: int, name: str) -> ScheduleRecord | None: ...

    async def list_for_coach(self, coach_id: int) -> Sequence[ScheduleRecord]: ...

    async def create(self, *, coach_id: int, name: str, timezone: str,
                     is_default: bool = False) -> ScheduleRecord: ...


class SchedulesUnitOfWork(Protocol):
    schedules: Schedules


def normalise_schedule_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split()).lower()
    if not cleaned:
        return DEFAULT_SCHEDULE
    if len(cleaned) > MAX_SCHEDULE_NAME:
        raise InvalidInput(f"Schedule names can be at most {MAX_SCHEDULE_NAME} characters.")
    return cleaned


async def resolve_schedule(
    uow: SchedulesUnitOfWork, coach: CoachRecord, name: str | None, *, create: bool = False
) -> ScheduleRecord:
    """The named schedule (default when no name). The default schedule always exists after
    this call; a named one is created only when `create` is set, in the coach's timezone."""
    wanted = normalise_schedule_name(name)
    schedule = await uow.schedules.get_by_name(coach.id, wanted)
    if schedule is not None:
        return schedule
    if wanted != DEFAULT_SCHEDULE and not create:
        names = [s.name for s in await uow.schedules.list_for_coach(coach.id)]
        listed = ", ".join(dict.fromkeys([DEFAULT_SCHEDULE, *names]))
        raise NotFound(f"You have no schedule called `{wanted}`. Your schedules: {listed}. "
                       "Add hours with `/availability add` and a schedule name to create one.")
    return await uow.schedules.create(coach_id=coach.id, name=wanted, timezone=coach.timezone,
                                      is_default=wanted == DEFAULT_SCHEDULE)
