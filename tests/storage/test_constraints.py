"""The database itself refuses impossible rows and cleans up owned ones (both backends)."""

from datetime import date

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from storage.models import (
    AvailabilityWindow,
    Booking,
    DateOverride,
    Offering,
    OfferingQuestion,
    Rating,
    Reminder,
    RoleGrant,
    Schedule,
)
from tests.storage.factories import GUILD_ID, START, make_booking, seed_coach_and_offering


async def _refused(uow, row) -> None:
    async with uow.session.begin_nested():
        uow.session.add(row)
        with pytest.raises(IntegrityError):
            await uow.session.flush()


async def test_check_constraints_refuse_out_of_range_values(uow_factory):
    async with uow_factory() as uow:
        coach, offering = await seed_coach_and_offering(uow)
        booking = await uow.bookings.add(make_booking(offering))
        schedule = Schedule(coach_id=coach.id, name="Main", timezone="Europe/Paris")
        uow.session.add(schedule)
        await uow.session.flush()
        await uow.commit()

        def offering_with(**overrides) -> Offering:
            values = {"guild_id": GUILD_ID, "coach_id": coach.id, "title": "T"}
            return Offering(**(values | overrides))

        bad_rows = [
            offering_with(duration_minutes=10),
            offering_with(duration_minutes=481),
            offering_with(capacity=0),
            offering_with(price_minor=-1),
            offering_with(currency="usd"),
            offering_with(status="archived"),
            offering_with(session_type="carrier pigeon"),
            offering_with(interval_minutes=1),
            AvailabilityWindow(schedule_id=schedule.id, weekday=7, start_minute=0, end_minute=60),
            AvailabilityWindow(schedule_id=schedule.id, weekday=1, start_minute=60, end_minute=60),
            AvailabilityWindow(schedule_id=schedule.id, weekday=1, start_minute=0, end_minute=1441),
            DateOverride(schedule_id=schedule.id, day=date(2030, 1, 1), start_minute=60),
            Rating(booking_id=booking.id, student_id=1, coach_id=coach.id, stars=6),
            make_booking(offering, start=START, minutes=-30, status="cancelled"),
            make_booking(offering, status="teleported"),
        ]
        for row in bad_rows:
            await _refused(uow, row)

        held = make_booking(offering, status="cancelled")
        held.status = "pending_payment"  # a hold without an expiry could never be released
        await _refused(uow, held)


async def test_valid_edge_values_are_accepted(uow_factory):
    async with uow_factory() as uow:
        coach, offering = await seed_coach_and_offering(uow)
        schedule = Schedule(coach_id=coach.id, name="Main", timezone="Europe/Paris")
        uow.session.add(schedule)
        await uow.session.flush()
        uow.session.add_all(
            [
                AvailabilityWindow(
                    schedule_id=schedule.id, weekday=6, start_minute=0, end_minute=1440
                ),
                DateOverride(schedule_id=schedule.id, day=date(2030, 12, 25)),  # day off
                DateOverride(
                    schedule_id=schedule.id,
                    day=date(2030, 12, 24),
                    start_minute=540,
                    end_minute=720,
                ),
                OfferingQuestion(offering_id=offering.id, position=0, label="Genre?"),
            ]
        )
        await uow.commit()


async def test_a_question_position_is_unique_per_offering(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        uow.session.add(OfferingQuestion(offering_id=offering.id, position=0, label="A"))
        await uow.session.flush()
        await _refused(uow, OfferingQuestion(offering_id=offering.id, position=0, label="B"))


async def test_deleting_a_booking_cascades_to_its_records_and_detaches_role_grants(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        booking = await uow.bookings.add(make_booking(offering))
        uow.session.add_all(
            [
                Reminder(
                    booking_id=booking.id,
                    recipient_id=2002,
                    kind="reminder",
                    offset_minutes=60,
                    due_at=START,
                ),
                RoleGrant(guild_id=GUILD_ID, user_id=2002, role_id=55, booking_id=booking.id),
            ]
        )
        await uow.commit()

    async with uow_factory() as uow:
        await uow.session.execute(delete(Booking).where(Booking.id == booking.id))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Reminder)) == 0
        grant = (await uow.session.scalars(select(RoleGrant))).one()
        assert grant.booking_id is None


async def test_an_offering_with_bookings_cannot_be_deleted(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        await uow.bookings.add(make_booking(offering))
        await uow.commit()

    async with uow_factory() as uow:
        with pytest.raises(IntegrityError):
            await uow.session.execute(delete(Offering).where(Offering.id == offering.id))


async def test_reminders_are_unique_per_recipient_kind_and_offset(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        booking = await uow.bookings.add(make_booking(offering))

        def reminder() -> Reminder:
            return Reminder(
                booking_id=booking.id,
                recipient_id=2002,
                kind="reminder",
                offset_minutes=60,
                due_at=START,
            )

        uow.session.add(reminder())
        await uow.session.flush()
        await _refused(uow, reminder())
