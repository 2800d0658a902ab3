"""Booking use cases: open slots for an offering, and taking one atomically.

Atomicity: `book` runs in a unit of work opened with `immediate=True` (SQLite: BEGIN IMMEDIATE)
and takes the coach's lock (PostgreSQL: an advisory lock, with the exclusion constraint as the
last guard), expires stale holds, re-checks the slot and inserts, all in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from scheduling.booking_rules import (
    BusyBooking,
    OfferingRules,
    OpenSlot,
    compute_open_slots,
    group_slot_key,
    nearest,
)
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound, SlotTaken
from scheduling.lifecycle import plan_session
from scheduling.slots import DateOverride, WeeklyWindow

# Whole local days around a query, so per-day limits and neighbours' buffers are all seen.
QUERY_PADDING = timedelta(days=2)
ALTERNATIVES_SPAN = timedelta(days=14)


class OfferingRecord(Protocol):
    id: int
    guild_id: int
    coach_id: int
    schedule_id: int | None
    status: str
    title: str
    price_minor: int
    currency: str
    duration_minutes: int
    capacity: int
    interval_minutes: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    booking_window_days: int
    max_per_day: int | None
    max_per_student: int | None


class BookingRecord(Protocol):
    id: int
    guild_id: int
    offering_id: int
    coach_id: int
    student_id: int
    status: str
    start_at: datetime
    end_at: datetime
    expires_at: datetime | None
    slot_key: str
    answers: list[dict[str, Any]]
    series_id: str | None


class ScheduleRecord(Protocol):
    id: int
    timezone: str


class WindowRecord(Protocol):
    weekday: int
    start_minute: int
    end_minute: int


class OverrideRecord(Protocol):
    day: date
    start_minute: int | None
    end_minute: int | None


class Offerings(Protocol):
    async def get(self, offering_id: int) -> OfferingRecord | None: ...


class Schedules(Protocol):
    async def get(self, schedule_id: int) -> ScheduleRecord | None: ...

    async def get_by_name(self, coach_id: int, name: str) -> ScheduleRecord | None: ...

    async def windows(self, schedule_id: int) -> Sequence[WindowRecord]: ...

    async def overrides(self, schedule_id: int) -> Sequence[OverrideRecord]: ...


class Bookings(Protocol):
    async def lock_coach(self, coach_id: int) -> None: ...

    async def expire_stale_holds(self, coach_id: int, now: datetime) -> list[int]: ...

    async def busy_for_coach(self, coach_id: int, start: datetime, end: datetime,
                             now: datetime, *, exclude_booking_id: int | None = None
                             ) -> Sequence[BusyBooking]: ...

    async def count_upcoming_for_student(self, offering_id: int, student_id: int,
                                         now: datetime) -> int: ...

    async def create(self, **fields: Any) -> BookingRecord: ...

    async def record_status(self, booking_id: int, from_status: str | None, to_status: str,
                            *, at: datetime, actor_id: int | None,
                            reason: str | None = None) -> None: ...


class BookingUnitOfWork(Protocol):
    offerings: Offerings
    schedules: Schedules
    bookings: Bookings

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[BookingUnitOfWork]]


@dataclass(frozen=True)
class BookingRequest:
    offering_id: int
    student_id: int
    start: datetime
    answers: tuple[tuple[str, str], ...] = ()
    extra_minutes: int = 0  # add-ons that lengthen the session (1-on-1 offerings only)
    referrer_id: int | None = None  # who referred the student (`scheduling/referrals.py`)
    referral_percent: int | None = None  # the server's commission then


def rules_for(offering: OfferingRecord, extra_minutes: int = 0) -> OfferingRules:
    """The offering's booking rules; `extra_minutes` lengthens the session while keeping the
    start times on the offering's own grid (its interval, or its own duration)."""
    step = offering.interval_minutes or (offering.duration_minutes if extra_minutes else None)
    return OfferingRules(
        offering_id=offering.id,
        duration=timedelta(minutes=offering.duration_minutes + extra_minutes),
        interval=timedelta(minutes=step) if step else None,
        buffer_before=timedelta(minutes=offering.buffer_before_minutes),
        buffer_after=timedelta(minutes=offering.buffer_after_minutes),
        min_notice=timedelta(minutes=offering.min_notice_minutes),
        booking_window=timedelta(days=offering.booking_window_days),
        capacity=offering.capacity,
        max_per_day=offering.max_per_day,
    )


def weekly_windows(rows: Sequence[WindowRecord]) -> list[WeeklyWindow]:
    return [WeeklyWindow(r.weekday, r.start_minute, r.end_minute) for r in rows]


def date_overrides(rows: Sequence[OverrideRecord]) -> list[DateOverride]:
    """Rows with NULL minutes block their day; other rows are that day's windows."""
    by_day: dict[date, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        windows = by_day[row.day]
        if row.start_minute is not None and row.end_minute is not None:
            windows.append((row.start_minute, row.end_minute))
    return [DateOverride(day, tuple(windows)) for day, windows in sorted(by_day.items())]


async def _schedule_of(uow: BookingUnitOfWork, offering: OfferingRecord) -> ScheduleRecord | None:
    if offering.schedule_id is not None:
        return await uow.schedules.get(offering.schedule_id)
    return await uow.schedules.get_by_name(offering.coach_id, "default")


async def load_open_slots(uow: BookingUnitOfWork, offering: OfferingRecord, *, now: datetime,
                          start: datetime, end: datetime,
                          extra_minutes: int = 0,
                          exclude_booking_id: int | None = None) -> list[OpenSlot]:
    """Open slots of a published offering in `[start, end)`, holds of others counting as busy.
    `exclude_booking_id`: a booking being moved, which does not count as busy for itself."""
    schedule = await _schedule_of(uow, offering)
    if schedule is None:
        return []
    weekly = weekly_windows(await uow.schedules.windows(schedule.id))
    overrides = date_overrides(await uow.schedules.overrides(schedule.id))
    if not weekly and not overrides:
        return []
    busy = await uow.bookings.busy_for_coach(
        offering.coach_id, start - QUERY_PADDING, end + QUERY_PADDING, now,
        exclude_booking_id=exclude_booking_id)
    return compute_open_slots(rules_for(offering, extra_minutes), tz=schedule.timezone,
                              weekly=weekly,
                              overrides=overrides, busy=busy, now=now, start=start, end=end)


async def _published(uow: BookingUnitOfWork, offering_id: int) -> OfferingRecord:
    offering = await uow.offerings.get(offering_id)
    if offering is None or offering.status != "published":
        raise NotFound("That offering is not available for booking any more. "
                       "Run `/book` again to see what the coach offers now.")
    return offering


async def check_student_limit(uow: BookingUnitOfWork, offering: OfferingRecord,
                              student_id: int, now: datetime, *, adding: int = 1) -> None:
    if offering.max_per_student is None:
        return
    upcoming = await uow.bookings.count_upcoming_for_student(offering.id, student_id, now)
    if adding > 1 and upcoming + adding > offering.max_per_student:
        raise NotAllowed(
            f"This coach allows at most {offering.max_per_student} upcoming sessions of "
            f"**{offering.title}** per student, and you have {upcoming}: a series of "
            f"{adding} does not fit. Book fewer weeks.")
    if upcoming >= offering.max_per_student:
        raise NotAllowed(
            f"You already have {upcoming} upcoming session{'s' if upcoming != 1 else ''} of "
            f"**{offering.title}**, the most this coach allows at once. You can book again "
            "after one of them, or cancel one with `/sessions`."
        )


# Work done inside the booking's transaction before it commits (e.g. spending credits).
OnBooked = Callable[[Any, Sequence[BookingRecord]], Awaitable[None]]


async def book(uow_factory: UnitOfWorkFactory, request: BookingRequest, *, now: datetime,
               hold: timedelta | None = None, on_booked: OnBooked | None = None
               ) -> BookingRecord:
    """Take the slot for the student: confirmed at once, or held for payment for `hold`.
    `on_booked` runs in the same transaction (what it raises undoes the booking).

    Raises SlotTaken (with the nearest free alternatives) when someone else got there first.
    """
    try:
        async with uow_factory(immediate=True) as uow:
            offering = await _prepare(uow, request, now, count=1)
            if not await _is_free(uow, offering, request, request.start, now):
                raise SlotTaken(await _why_not_free(uow, offering, request, now))
            booking = await _insert(uow, offering, request, request.start, now=now, hold=hold)
            if on_booked is not None:
                await on_booked(uow, [booking])
            await uow.commit()
            return booking
    except SlotTaken as taken:
        message = taken.user_message if taken.user_message == NO_ROOM_FOR_EXTRA.format(
            minutes=request.extra_minutes) else SLOT_GONE
        alternatives = await alternatives_to(uow_factory, request, now=now)
        raise SlotTaken(message, tuple(alternatives)) from None


async def book_many(uow_factory: UnitOfWorkFactory, request: BookingRequest,
                    starts: Sequence[datetime], *, series_id: str, now: datetime,
                    hold: timedelta | None = None, on_booked: OnBooked | None = None
                    ) -> list[BookingRecord]:
    """Book every start of `starts` for the student in ONE transaction (a weekly series:
    the bookings share `series_id`), or none: raises `TimesUnavailable` with the starts that
    are not free (taken, outside the coach's hours or the booking window)."""
    async with uow_factory(immediate=True) as uow:
        offering = await _prepare(uow, request, now, count=len(starts))
        unavailable = tuple([start for start in starts
                             if not await _is_free(uow, offering, request, start, now)])
        if unavailable:
            raise TimesUnavailable(unavailable, tuple(s for s in starts if s not in unavailable))
        bookings = [await _insert(uow, offering, request, start, now=now, hold=hold,
                                  series_id=series_id) for start in starts]
        if on_booked is not None:
            await on_booked(uow, bookings)
        await uow.commit()
        return bookings


class TimesUnavailable(Conflict):
    """Some of the times asked for together are not free (`unavailable`); `free` are."""

    def __init__(self, unavailable: tuple[datetime, ...], free: tuple[datetime, ...]) -> None:
        listed = ", ".join(f"<t:{int(s.timestamp())}:D>" for s in unavailable)
        super().__init__(f"Not free any more: {listed}. Nothing was booked.")
        self.unavailable = unavailable
        self.free = free


async def _prepare(uow: BookingUnitOfWork, request: BookingRequest, now: datetime, *,
                   count: int) -> OfferingRecord:
    """The published offering, its coach locked, stale holds expired, the student's limit
    checked for `count` more sessions."""
    offering = await _published(uow, request.offering_id)
    await uow.bookings.lock_coach(offering.coach_id)
    await uow.bookings.expire_stale_holds(offering.coach_id, now)
    await check_student_limit(uow, offering, request.student_id, now, adding=count)
    if request.extra_minutes and offering.capacity > 1:
        raise InvalidInput("Extra time can only be added to 1-on-1 sessions.")
    return offering


async def _is_free(uow: BookingUnitOfWork, offering: OfferingRecord, request: BookingRequest,
                   start: datetime, now: datetime) -> bool:
    slots = await load_open_slots(uow, offering, now=now, start=start,
                                  end=start + timedelta(seconds=1),
                                  extra_minutes=request.extra_minutes)
    return any(s.start == start for s in slots)


async def _insert(uow: BookingUnitOfWork, offering: OfferingRecord, request: BookingRequest,
                  start: datetime, *, now: datetime, hold: timedelta | None,
                  series_id: str | None = None) -> BookingRecord:
    booking = await uow.bookings.create(
        guild_id=offering.guild_id, offering_id=offering.id, coach_id=offering.coach_id,
        student_id=request.student_id,
        status="pending_payment" if hold else "confirmed",
        start_at=start,
        end_at=start + timedelta(minutes=offering.duration_minutes + request.extra_minutes),
        expires_at=now + hold if hold else None,
        slot_key=group_slot_key(offering.id, start) if offering.capacity > 1 else None,
        answers=[{"label": label, "answer": answer} for label, answer in request.answers],
        series_id=series_id,
        referrer_id=request.referrer_id,
        referral_percent=request.referral_percent if request.referrer_id else None,
    )
    await uow.bookings.record_status(booking.id, None, booking.status, at=now,
                                     actor_id=request.student_id, reason="booked")
    if booking.status == "confirmed":
        await plan_session(uow, booking, now=now)
    return booking


async def _why_not_free(uow: BookingUnitOfWork, offering: OfferingRecord,
                        request: BookingRequest, now: datetime) -> str:
    """The time is gone, or only the add-ons' extra minutes do not fit after it."""
    if request.extra_minutes:
        base = await load_open_slots(uow, offering, now=now, start=request.start,
                                     end=request.start + timedelta(seconds=1))
        if any(s.start == request.start for s in base):
            return NO_ROOM_FOR_EXTRA.format(minutes=request.extra_minutes)
    return SLOT_GONE


NO_ROOM_FOR_EXTRA = ("There is no room for the extra {minutes} minutes after that time: the "
                     "coach is busy right after. Pick one of the times below, or leave out "
                     "the add-on that adds time.")
SLOT_GONE = ("Someone else just took that time, so it is no longer free. "
             "Pick one of the nearest free times below, or run `/book` again.")


async def alternatives_to(uow_factory: UnitOfWorkFactory, request: BookingRequest, *,
                          now: datetime, count: int = 5) -> list[OpenSlot]:
    async with uow_factory() as uow:
        offering = await uow.offerings.get(request.offering_id)
        if offering is None or offering.status != "published":
            return []
        start = max(now, request.start - ALTERNATIVES_SPAN / 2)
        slots = await load_open_slots(uow, offering, now=now, start=start,
                                      end=request.start + ALTERNATIVES_SPAN,
                                      extra_minutes=request.extra_minutes)
    return nearest(slots, request.start, count)


class HeldBookings(Protocol):
    async def get(self, booking_id: int) -> BookingRecord | None: ...

    async def lock_coach(self, coach_id: int) -> None: ...

    async def overlapping_active(self, coach_id: int, start: datetime,
                                 end: datetime) -> Sequence[BookingRecord]: ...

    async def record_status(self, booking_id: int, from_status: str | None, to_status: str,
                            *, at: datetime, actor_id: int | None,
                            reason: str | None = None) -> None: ...


class ConfirmUnitOfWork(Protocol):
    offerings: Offerings
    bookings: HeldBookings

    async def commit(self) -> None: ...


async def confirm_held(uow_factory: Callable[..., AbstractAsyncContextManager[ConfirmUnitOfWork]],
                       booking_id: int, *, now: datetime, reason: str = "paid") -> BookingRecord:
    """Turn a held booking into a confirmed one (payment arrived). Idempotent.

    A hold that already ran out is still confirmed when nobody else took the time meanwhile;
    otherwise SlotTaken, and the caller refunds.
    """
    async with uow_factory(immediate=True) as uow:
        booking = await uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound(f"Booking #{booking_id} does not exist.")
        if booking.status in ("confirmed", "in_progress", "completed"):
            return booking
        if booking.status not in ("pending_payment", "expired"):
            raise SlotTaken(f"Booking #{booking_id} was {booking.status.replace('_', ' ')} "
                            "before the payment arrived.")
        await uow.bookings.lock_coach(booking.coach_id)
        if booking.status == "expired" or (booking.expires_at and booking.expires_at <= now):
            await _require_still_free(uow, booking)
        previous = booking.status
        booking.status = "confirmed"
        booking.expires_at = None
        await uow.bookings.record_status(booking.id, previous, "confirmed", at=now,
                                         actor_id=booking.student_id, reason=reason)
        await plan_session(uow, booking, now=now)
        await uow.commit()
        return booking


async def _require_still_free(uow: ConfirmUnitOfWork, booking: BookingRecord) -> None:
    others = [b for b in await uow.bookings.overlapping_active(
        booking.coach_id, booking.start_at, booking.end_at) if b.id != booking.id]
    offering = await uow.offerings.get(booking.offering_id)
    seats = offering.capacity if offering else 1
    sharing = [b for b in others if b.slot_key == booking.slot_key]
    if len(others) > len(sharing) or len(sharing) >= seats:
        raise SlotTaken("The time of this booking was taken by someone else after its hold "
                        "ran out.")
