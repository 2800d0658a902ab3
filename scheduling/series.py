"""Weekly series: one time, the same weekday and wall-clock time each week for up to
`MAX_WEEKS` weeks, booked together (`scheduling.booking.book_many`), each occurrence then a
booking of its own (reminders, cancel, reschedule), plus "cancel the rest of the series".

    starts = weekly_starts(first_start, weeks=6, zone="Europe/Berlin")
    bookings = await book_many(uow_factory, request, starts, series_id=new_series_id(), now=now)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from scheduling.cancellation import Cancelled, cancel_booking
from scheduling.errors import DomainError, InvalidInput, NotFound

MAX_WEEKS: Final = 12
WEEK: Final = timedelta(days=7)
FOLLOWING_STATUSES: Final = ("confirmed",)


def new_series_id() -> str:
    return f"s:{uuid.uuid4().hex}"


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"Repeat weekly for 1 to {MAX_WEEKS} weeks.")
    return weeks


def weekly_starts(first: datetime, weeks: int, zone: str) -> list[datetime]:
    """`first` and the same wall-clock time in `zone` on the same weekday of the following
    weeks (a coach's 10:00 stays 10:00 across a DST change), in UTC. A time that does not
    exist on a DST day is kept as the clock shows it after the change; the slot engine then
    decides whether it is free."""
    check_weeks(weeks)
    tz = ZoneInfo(zone)
    local = first.astimezone(tz).replace(tzinfo=None)
    return [(local + k * WEEK).replace(tzinfo=tz).astimezone(UTC) for k in range(weeks)]


class SeriesBooking(Protocol):
    id: int
    series_id: str | None
    status: str
    start_at: datetime
    student_id: int


class SeriesBookings(Protocol):
    async def get(self, booking_id: int) -> SeriesBooking | None: ...

    async def in_series(self, series_id: str) -> Sequence[SeriesBooking]: ...


class SeriesUnitOfWork(Protocol):
    bookings: SeriesBookings


async def rest_of_series(uow: SeriesUnitOfWork, booking_id: int, *, now: datetime
                         ) -> list[Any]:
    """This occurrence and the later confirmed ones of its series that have not started (just
    this one when it is not part of a series)."""
    booking = await uow.bookings.get(booking_id)
    if booking is None:
        raise NotFound(f"Booking #{booking_id} does not exist.")
    if booking.series_id is None:
        return [booking]
    return [b for b in await uow.bookings.in_series(booking.series_id)
            if b.start_at >= booking.start_at and b.start_at > now
            and (b.status in FOLLOWING_STATUSES or b.id == booking.id)]


def series_lines(starts: Sequence[datetime]) -> list[str]:
    """One line per occurrence, as Discord timestamps."""
    return [f"{i}. <t:{int(s.timestamp())}:F>" for i, s in enumerate(starts, start=1)]


async def cancel_rest(uow_factory: Any, booking_id: int, actor_id: int, *, now: datetime,
                      reason: str, admin_of: int | None = None
                      ) -> tuple[list[Cancelled], list[tuple[int, str]]]:
    """Cancel this occurrence and every later one of its series, each under the policy on its
    own (its own refund or credit, its own notice). Returns what was cancelled and, for
    occurrences that could not be, their id and why (the others are cancelled anyway)."""
    async with uow_factory() as uow:  # read only
        rest = [b.id for b in await rest_of_series(uow, booking_id, now=now)]
    done: list[Cancelled] = []
    skipped: list[tuple[int, str]] = []
    for occurrence in rest:
        try:
            done.append(await cancel_booking(uow_factory, occurrence, actor_id, now=now,
                                             reason=reason, admin_of=admin_of))
        except DomainError as refused:
            skipped.append((occurrence, refused.user_message))
    return done, skipped
