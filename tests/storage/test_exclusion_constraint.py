"""PostgreSQL refuses overlapping active bookings of one coach unless they are seats of the
same group slot (equal slot_key)."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from scheduling.booking_rules import group_slot_key
from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.models import EXCLUSION_CONSTRAINT_NAME, Booking
from storage.uow import UnitOfWork, make_session_factory
from tests.storage.factories import START, add_coach, add_offering, make_booking

HALF_HOUR = timedelta(minutes=30)


@pytest.fixture
async def pg_uow(postgres_url) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(postgres_url)
    await migrate_engine(engine)
    async with UnitOfWork(make_session_factory(engine)) as uow:
        yield uow
    await engine.dispose()


async def test_the_constraint_exists(pg_uow):
    definition = await pg_uow.session.scalar(
        # This test's schema only ('bookings' resolves through its search_path): other runs'
        # schemas come and go on the same server.
        text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
             "WHERE conname = :name AND conrelid = 'bookings'::regclass"),
        {"name": EXCLUSION_CONSTRAINT_NAME},
    )
    assert definition is not None
    assert "EXCLUDE USING gist" in definition
    assert "tstzrange(start_at, end_at, '[)'::text) WITH &&" in definition


async def test_two_overlapping_solo_bookings_of_one_coach_are_refused(pg_uow):
    coach = await add_coach(pg_uow)
    offering = await add_offering(pg_uow, coach)
    await pg_uow.bookings.add(make_booking(offering, start=START))
    with pytest.raises(IntegrityError, match=EXCLUSION_CONSTRAINT_NAME):
        await pg_uow.bookings.add(make_booking(offering, student_id=3, start=START + HALF_HOUR))


async def test_a_hold_blocks_the_slot_too(pg_uow):
    coach = await add_coach(pg_uow)
    offering = await add_offering(pg_uow, coach)
    await pg_uow.bookings.add(make_booking(offering, status="pending_payment"))
    with pytest.raises(IntegrityError, match=EXCLUSION_CONSTRAINT_NAME):
        await pg_uow.bookings.add(make_booking(offering, student_id=3, status="confirmed"))


async def test_seats_of_one_group_slot_may_share_the_range(pg_uow):
    coach = await add_coach(pg_uow)
    group = await add_offering(pg_uow, coach, capacity=3)
    key = group_slot_key(group.id, START)
    for student in (11, 12, 13):
        await pg_uow.bookings.add(make_booking(group, student_id=student, slot_key=key))
    await pg_uow.commit()
    seats = await pg_uow.session.scalars(select(Booking).where(Booking.slot_key == key))
    assert len(list(seats)) == 3


async def test_a_different_slot_cannot_overlap_a_group_session(pg_uow):
    coach = await add_coach(pg_uow)
    group = await add_offering(pg_uow, coach, capacity=3)
    solo = await add_offering(pg_uow, coach)
    await pg_uow.bookings.add(make_booking(group, slot_key=group_slot_key(group.id, START)))
    with pytest.raises(IntegrityError, match=EXCLUSION_CONSTRAINT_NAME):
        await pg_uow.bookings.add(make_booking(solo, student_id=3, start=START + HALF_HOUR))


async def test_touching_inactive_and_other_coaches_bookings_are_allowed(pg_uow):
    coach = await add_coach(pg_uow)
    offering = await add_offering(pg_uow, coach)
    other = await add_offering(pg_uow, await add_coach(pg_uow, 4242, name="Other"))
    await pg_uow.bookings.add(make_booking(offering, start=START))
    await pg_uow.bookings.add(make_booking(offering, start=START + timedelta(hours=1)))
    await pg_uow.bookings.add(make_booking(offering, start=START - timedelta(hours=1)))
    for status in ("cancelled", "expired", "completed", "no_show_student", "no_show_coach"):
        await pg_uow.bookings.add(make_booking(offering, start=START, status=status))
    await pg_uow.bookings.add(make_booking(other, start=START))
    await pg_uow.commit()


async def test_cancelling_frees_the_slot(pg_uow):
    coach = await add_coach(pg_uow)
    offering = await add_offering(pg_uow, coach)
    first = await pg_uow.bookings.add(make_booking(offering))
    first.status = "cancelled"
    await pg_uow.session.flush()
    await pg_uow.bookings.add(make_booking(offering, student_id=3))
    await pg_uow.commit()
