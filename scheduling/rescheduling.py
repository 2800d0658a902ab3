"""Rescheduling a booking under its policy: who may, the free times of the same offering (the
booking's own time not counting as busy for itself), and the move itself (times, reschedule
count, history row and audit entry in one transaction under the coach's lock).

    context = await reschedule_context(uow, booking_id, actor_id, now=now)
    days = await open_days(uow, context, zone=zone, now=now)
    done = await reschedule_booking(uow_factory, booking_id, actor_id, new_start, now=now)
    # then: move the booking's jobs, the channel topic, DM both parties, post to the log

Only the student reschedules (a coach who cannot make it cancels, refunding in full), only a
confirmed session that has not started, at most `Policy.max_reschedules` times and with at
least `Policy.reschedule_min_notice_hours` left. The payment stays as it is: no new charge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from scheduling.book_flow import (
    MAX_DAYS,
    DayOption,
    FlowUnitOfWork,
    check_eligible,
    day_bounds,
    day_label,
    offering_info,
)
from scheduling.booking import ALTERNATIVES_SPAN, load_open_slots
from scheduling.booking_rules import OpenSlot, group_slot_key, nearest
from scheduling.cancellation import upcoming_choices as cancellable_choices
from scheduling.eligibility import StudentFacts
from scheduling.errors import Conflict, NotAllowed, NotFound, SlotTaken
from scheduling.payments import policy_for
from scheduling.policy import Policy

AUDIT_ACTION: Final = "booking.rescheduled"
RESCHEDULABLE_STATUSES: Final = ("confirmed",)

NOT_A_PARTICIPANT: Final = "Only the student who booked this session can reschedule it."
COACH_CANNOT: Final = ("Only the student can reschedule a session. If you can't make it, "
                       "cancel it with `/cancel` (the student is refunded in full and told to "
                       "book another time).")
HELD: Final = ("This booking is not paid yet, so there is nothing to reschedule: use **Cancel** "
               "on its Pay now message and book another time with `/book`.")
STARTED: Final = "This session has already started, so it can no longer be rescheduled."
SLOT_GONE: Final = ("That time is no longer free: someone else just took it. Pick one of the "
                    "nearest free times below; your session has not moved.")


class Audit(Protocol):
    async def add(self, *, guild_id: int, actor_id: int, action: str,
                  before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                  at: datetime | None = None) -> Any: ...


class RescheduleUnitOfWork(FlowUnitOfWork, Protocol):
    audit: Audit


RescheduleUnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[RescheduleUnitOfWork]]


@dataclass(frozen=True)
class RescheduleContext:
    """A booking that may be moved now, as the flow shows it."""

    booking_id: int
    guild_id: int
    offering_id: int
    coach_id: int
    title: str
    coach_user_id: int
    coach_name: str
    coach_zone: str
    student_id: int
    start_at: datetime
    end_at: datetime
    reschedule_count: int
    max_reschedules: int
    policy_lines: tuple[str, ...]
    extra_minutes: int = 0  # minutes beyond the offering's length (add-ons): kept on the move
    is_group: bool = False

    @property
    def left_after(self) -> int:
        return self.max_reschedules - self.reschedule_count - 1


@dataclass(frozen=True)
class Rescheduled:
    """A committed reschedule: what the Discord side still has to do."""

    context: RescheduleContext
    actor_id: int
    old_start: datetime
    old_end: datetime
    new_start: datetime
    new_end: datetime
    reschedule_count: int  # after the move: the calendar event's SEQUENCE
    at: datetime
    text_channel_id: int | None
    log_channel_id: int | None


def limit_message(policy: Policy, done: int) -> str:
    if policy.max_reschedules == 0:
        return ("This session can't be rescheduled: its policy allows no rescheduling. You "
                "can still cancel it with `/cancel` under the cancellation policy.")
    times = f"{policy.max_reschedules} time{'' if policy.max_reschedules == 1 else 's'}"
    return (f"This session was already rescheduled {done}x, and its policy allows it "
            f"{times}. You can still cancel it with `/cancel` under the cancellation policy.")


def too_close_message(policy: Policy, start_at: datetime) -> str:
    return (f"This session is too close to reschedule (it starts <t:{int(start_at.timestamp())}"
            f":R>): its policy allows rescheduling until {policy.reschedule_min_notice_hours} h "
            "before the start. Talk to your coach, or cancel it with `/cancel`.")


async def _check(uow: RescheduleUnitOfWork, booking: Any, actor_id: int, *, now: datetime
                 ) -> Policy:
    coach = await uow.coaches.get(booking.coach_id)
    if booking.student_id != actor_id:
        if coach is not None and coach.user_id == actor_id:
            raise NotAllowed(COACH_CANNOT)
        raise NotAllowed(NOT_A_PARTICIPANT)
    if booking.status == "pending_payment":
        raise Conflict(HELD)
    if booking.status == "in_progress" or (booking.status in RESCHEDULABLE_STATUSES
                                           and booking.start_at <= now):
        raise Conflict(STARTED)
    if booking.status not in RESCHEDULABLE_STATUSES:
        raise Conflict(f"Booking #{booking.id} is {booking.status.replace('_', ' ')}, not "
                       "confirmed: there is nothing to reschedule.")
    offering = await uow.offerings.get(booking.offering_id)
    settings = await uow.guild_settings.get(booking.guild_id)
    policy = policy_for(offering, settings)  # type: ignore[arg-type]
    if booking.reschedule_count >= policy.max_reschedules:
        raise NotAllowed(limit_message(policy, booking.reschedule_count))
    if not policy.may_reschedule(booking.start_at - now, booking.reschedule_count):
        raise NotAllowed(too_close_message(policy, booking.start_at))
    return policy


async def reschedule_context(uow: RescheduleUnitOfWork, booking_id: int, actor_id: int, *,
                             now: datetime, student: StudentFacts | None = None
                             ) -> RescheduleContext:
    """The booking `actor_id` wants to move, or the reason they may not (NotAllowed/Conflict
    with the policy's reason). `student`: the eligibility `/book` checks (membership,
    screening, the server's required role), checked when given."""
    booking = await uow.bookings.get(booking_id)  # type: ignore[attr-defined]
    if booking is None:
        raise NotFound(f"Booking #{booking_id} does not exist.")
    policy = await _check(uow, booking, actor_id, now=now)
    info = await offering_info(uow, booking.offering_id, booking.guild_id)
    if student is not None:
        await check_eligible(uow, student, guild_id=booking.guild_id,
                             coach_user_id=info.coach_user_id, now=now)
    minutes = int((booking.end_at - booking.start_at).total_seconds() // 60)
    return RescheduleContext(
        booking_id=booking.id, guild_id=booking.guild_id, offering_id=booking.offering_id,
        coach_id=booking.coach_id, title=info.title, coach_user_id=info.coach_user_id,
        coach_name=info.coach_name,
        coach_zone=info.coach_zone, student_id=booking.student_id, start_at=booking.start_at,
        end_at=booking.end_at, reschedule_count=booking.reschedule_count,
        max_reschedules=policy.max_reschedules, policy_lines=tuple(policy.describe()),
        extra_minutes=max(0, minutes - info.duration_minutes), is_group=info.is_group)


async def _slots(uow: RescheduleUnitOfWork, context: RescheduleContext, *, now: datetime,
                 start: datetime, end: datetime) -> list[OpenSlot]:
    offering = await uow.offerings.get(context.offering_id)
    if offering is None or offering.status != "published":
        return []
    slots = await load_open_slots(uow, offering, now=now, start=start, end=end,
                                  extra_minutes=context.extra_minutes,
                                  exclude_booking_id=context.booking_id)
    return [s for s in slots if s.start != context.start_at]  # moving onto itself: no move


async def open_days(uow: RescheduleUnitOfWork, context: RescheduleContext, *, zone: str,
                    now: datetime, limit: int = MAX_DAYS) -> list[DayOption]:
    """The next days (in `zone`) with free times for the booking, with how many each has."""
    offering = await uow.offerings.get(context.offering_id)
    if offering is None:
        return []
    slots = await _slots(uow, context, now=now, start=now,
                         end=now + timedelta(days=offering.booking_window_days))
    tz = ZoneInfo(zone)
    counts = Counter(slot.start.astimezone(tz).date() for slot in slots)
    return [DayOption(day, count, day_label(day, count))
            for day, count in sorted(counts.items())[:limit]]


async def slots_of_day(uow: RescheduleUnitOfWork, context: RescheduleContext, day: date, *,
                       zone: str, now: datetime) -> list[OpenSlot]:
    start, end = day_bounds(day, zone)
    return await _slots(uow, context, now=now, start=start, end=end)


async def alternatives(uow_factory: RescheduleUnitOfWorkFactory, context: RescheduleContext,
                       wanted: datetime, *, now: datetime, count: int = 5) -> list[OpenSlot]:
    async with uow_factory() as uow:
        slots = await _slots(uow, context, now=now, start=max(now, wanted - ALTERNATIVES_SPAN / 2),
                             end=wanted + ALTERNATIVES_SPAN)
    return nearest(slots, wanted, count)


async def reschedule_booking(uow_factory: RescheduleUnitOfWorkFactory, booking_id: int,
                             actor_id: int, new_start: datetime, *, now: datetime,
                             student: StudentFacts | None = None) -> Rescheduled:
    """Move the booking to `new_start`, deciding everything again by `now` (policy,
    eligibility, the slot) under the coach's lock, in one transaction. The payment is left
    as it is. Raises SlotTaken with the nearest free times when the time is gone."""
    if new_start.tzinfo is None:
        raise ValueError("new_start must be timezone-aware")
    async with uow_factory(immediate=True) as uow:
        booking = await uow.bookings.get(booking_id)  # type: ignore[attr-defined]
        if booking is None:
            raise NotFound(f"Booking #{booking_id} does not exist.")
        await uow.bookings.lock_coach(booking.coach_id)
        await uow.bookings.expire_stale_holds(booking.coach_id, now)
        context = await reschedule_context(uow, booking_id, actor_id, now=now, student=student)
        offering = await uow.offerings.get(booking.offering_id)
        assert offering is not None  # reschedule_context checked it is published
        slots = await _slots(uow, context, now=now, start=new_start,
                             end=new_start + timedelta(seconds=1))
        free = any(s.start == new_start for s in slots)
        if free:
            old_start, old_end = booking.start_at, booking.end_at
            length = old_end - old_start
            booking.start_at = new_start
            booking.end_at = new_start + length
            if offering.capacity > 1:
                booking.slot_key = group_slot_key(offering.id, new_start)
            booking.reschedule_count += 1
            await uow.bookings.record_status(
                booking.id, booking.status, booking.status, at=now, actor_id=actor_id,
                reason=f"rescheduled from {old_start.isoformat()}")
            await uow.audit.add(
                guild_id=booking.guild_id, actor_id=actor_id, action=AUDIT_ACTION,
                before={"booking_id": booking.id, "start_at": old_start.isoformat(),
                        "end_at": old_end.isoformat(),
                        "reschedule_count": booking.reschedule_count - 1},
                after={"booking_id": booking.id, "start_at": new_start.isoformat(),
                       "end_at": booking.end_at.isoformat(),
                       "reschedule_count": booking.reschedule_count},
                at=now)
            settings = await uow.guild_settings.get(booking.guild_id)
            text_channel_id = booking.text_channel_id
            new_end, count = booking.end_at, booking.reschedule_count
            await uow.commit()
    if not free:
        raise SlotTaken(SLOT_GONE, tuple(await alternatives(uow_factory, context, new_start,
                                                            now=now)))
    return Rescheduled(
        context=context, actor_id=actor_id, old_start=old_start, old_end=old_end,
        new_start=new_start, new_end=new_end, reschedule_count=count, at=now,
        text_channel_id=text_channel_id,
        log_channel_id=getattr(settings, "log_channel_id", None))


def upcoming_choices(rows: Sequence[Any], current: str, *, student_id: int, now: datetime
                     ) -> list[tuple[str, int]]:
    """(label, booking id) of the caller's confirmed sessions as the student, not started yet
    (the service says why one of them cannot be moved)."""
    return cancellable_choices([r for r in rows if r.student_id == student_id], current,
                               now=now)
