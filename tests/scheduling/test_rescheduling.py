"""`scheduling.rescheduling` on SQLite and PostgreSQL: the booking's own time is not busy for
itself (and only its own), group seats and add-on minutes survive a move, the policy's
refusals, and the eligibility `/book` checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduling import rescheduling as service
from scheduling.booking_rules import group_slot_key
from scheduling.eligibility import StudentFacts
from scheduling.errors import NotAllowed, SlotTaken
from scheduling.policy import make_policy
from storage.models import AuditEntry, BookingStatusChange
from tests.cogs.booking_seed import create_coach, create_offering, insert_booking

GUILD = 1
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
THU_10 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
FRI_10 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
STUDENT, OTHER, COACH_USER = 700, 701, 500
H = timedelta(hours=1)


def member(user_id=STUDENT, *, is_member=True):
    return StudentFacts(user_id, is_member, False, frozenset())


async def seed(uow_factory, **fields):
    coach = await create_coach(uow_factory, GUILD, COACH_USER, name="Carla")
    offering = await create_offering(uow_factory, coach, **fields)
    return coach, offering


async def get(uow_factory, booking_id):
    async with uow_factory() as uow:
        return await uow.bookings.get(booking_id)


async def test_busy_except_leaves_out_only_the_given_booking(uow_factory):
    coach, offering = await seed(uow_factory)
    mine = await insert_booking(uow_factory, offering, STUDENT, THU_10)
    await insert_booking(uow_factory, offering, OTHER, THU_10 + H)
    async with uow_factory() as uow:
        everything = await uow.bookings.busy_for_coach(coach.id, NOW, NOW + 7 * 24 * H, NOW)
        others = await uow.bookings.busy_for_coach(coach.id, NOW, NOW + 7 * 24 * H, NOW,
                                                   exclude_booking_id=mine.id)
    assert sorted(b.start for b in everything) == [THU_10, THU_10 + H]
    assert [b.start for b in others] == [THU_10 + H]


async def test_the_own_time_is_free_for_itself_with_buffers(uow_factory):
    _, offering = await seed(uow_factory, buffer_after_minutes=30, interval_minutes=30)
    booking = await insert_booking(uow_factory, offering, STUDENT, THU_10)
    async with uow_factory() as uow:
        context = await service.reschedule_context(uow, booking.id, STUDENT, now=NOW)
        day = await service.slots_of_day(uow, context, THU_10.date(), zone="UTC", now=NOW)
    starts = [s.start for s in day]
    assert THU_10 + H / 2 in starts  # overlaps the booking's own time: still offered
    assert THU_10 not in starts  # moving onto itself is no move

    done = await service.reschedule_booking(uow_factory, booking.id, STUDENT, THU_10 + H / 2,
                                            now=NOW, student=member())
    assert (done.old_start, done.new_start, done.reschedule_count) == (THU_10, THU_10 + H / 2, 1)
    moved = await get(uow_factory, booking.id)
    assert (moved.start_at, moved.end_at) == (THU_10 + H / 2, THU_10 + H * 3 / 2)


async def test_group_seat_moves_to_the_new_group_slot(uow_factory):
    _, offering = await seed(uow_factory, capacity=2)
    booking = await insert_booking(uow_factory, offering, STUDENT, THU_10,
                                   slot_key=group_slot_key(offering.id, THU_10))
    await insert_booking(uow_factory, offering, OTHER, FRI_10,
                         slot_key=group_slot_key(offering.id, FRI_10))

    await service.reschedule_booking(uow_factory, booking.id, STUDENT, FRI_10, now=NOW)

    moved = await get(uow_factory, booking.id)
    assert moved.slot_key == group_slot_key(offering.id, FRI_10)
    with pytest.raises(SlotTaken) as taken:  # the group is full now
        third = await insert_booking(uow_factory, offering, 702, THU_10,
                                     slot_key=group_slot_key(offering.id, THU_10))
        await service.reschedule_booking(uow_factory, third.id, 702, FRI_10, now=NOW)
    assert taken.value.alternatives


async def test_add_on_minutes_stay_with_the_booking(uow_factory):
    _, offering = await seed(uow_factory, interval_minutes=60)
    booking = await insert_booking(uow_factory, offering, STUDENT, THU_10)
    async with uow_factory() as uow:  # booked with an add-on of 30 extra minutes
        (await uow.bookings.get(booking.id)).end_at = THU_10 + timedelta(minutes=90)
        await uow.commit()

    await service.reschedule_booking(uow_factory, booking.id, STUDENT, FRI_10, now=NOW)

    moved = await get(uow_factory, booking.id)
    assert moved.end_at - moved.start_at == timedelta(minutes=90)


async def test_no_rescheduling_policy_and_ineligible_student_write_nothing(uow_factory):
    _, offering = await seed(uow_factory, policy=make_policy([(24, 100)],
                                                             max_reschedules=0).to_dict())
    booking = await insert_booking(uow_factory, offering, STUDENT, THU_10)
    with pytest.raises(NotAllowed, match="allows no rescheduling"):
        await service.reschedule_booking(uow_factory, booking.id, STUDENT, FRI_10, now=NOW)

    _, other = await seed_second(uow_factory)
    left = await insert_booking(uow_factory, other, STUDENT, THU_10 + 2 * H)
    with pytest.raises(NotAllowed, match="Only members"):
        await service.reschedule_booking(uow_factory, left.id, STUDENT, FRI_10, now=NOW,
                                         student=member(is_member=False))
    async with uow_factory() as uow:
        assert list(await uow.session.scalars(select(AuditEntry))) == []
        assert list(await uow.session.scalars(select(BookingStatusChange).where(
            BookingStatusChange.reason.like("rescheduled%")))) == []
    assert (await get(uow_factory, left.id)).start_at == THU_10 + 2 * H


async def seed_second(uow_factory):
    coach = await create_coach(uow_factory, GUILD, 501, name="Carlos")
    return coach, await create_offering(uow_factory, coach, title="Pitch practice")
