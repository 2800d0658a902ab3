"""Booking atomically on SQLite and PostgreSQL: holds, expiry, seats, limits and the race."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from scheduling.booking import BookingRequest, book, confirm_held, load_open_slots
from scheduling.errors import NotAllowed, NotFound, SlotTaken
from storage.models import AvailabilityWindow

GUILD = 1
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 08:00 UTC
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


async def seed(uow_factory, **offering_fields):
    """A coach in UTC with Mon-Fri 09:00-17:00 and a published 60-minute offering."""
    async with uow_factory() as uow:
        coach = await uow.coaches.create(guild_id=GUILD, user_id=500, display_name="Coach")
        schedule = await uow.schedules.create(coach_id=coach.id, name="default",
                                              timezone="UTC", is_default=True)
        for day in range(5):
            uow.session.add(AvailabilityWindow(schedule_id=schedule.id, weekday=day,
                                               start_minute=9 * 60, end_minute=17 * 60))
        fields = {"min_notice_minutes": 60, "duration_minutes": 60, "status": "published",
                  **offering_fields}
        offering = await uow.offerings.create(guild_id=GUILD, coach_id=coach.id,
                                              schedule_id=schedule.id, title="Mock interview",
                                              **fields)
        await uow.commit()
        return offering.id


async def test_free_booking_is_confirmed_with_history(uow_factory):
    offering_id = await seed(uow_factory)
    booking = await book(uow_factory, BookingRequest(offering_id, 7, TUE_10, (("Goal", "x"),)),
                         now=NOW)
    assert booking.status == "confirmed"
    async with uow_factory() as uow:
        stored = await uow.bookings.get(booking.id)
        assert (stored.start_at, stored.end_at) == (TUE_10, TUE_10 + H)
        assert stored.answers == [{"label": "Goal", "answer": "x"}]
        assert stored.slot_key.startswith("b:")


async def test_taken_slot_is_refused_with_nearest_alternatives(uow_factory):
    offering_id = await seed(uow_factory)
    await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW)
    with pytest.raises(SlotTaken) as info:
        await book(uow_factory, BookingRequest(offering_id, 8, TUE_10), now=NOW)
    alternatives = [s.start for s in info.value.alternatives]
    assert TUE_10 not in alternatives
    assert TUE_10 - H in alternatives and TUE_10 + H in alternatives
    assert "no longer free" in info.value.user_message


async def test_a_hold_blocks_others_until_it_expires(uow_factory):
    offering_id = await seed(uow_factory)
    held = await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW,
                      hold=timedelta(minutes=30))
    assert held.status == "pending_payment"
    assert held.expires_at == NOW + timedelta(minutes=30)
    with pytest.raises(SlotTaken):
        await book(uow_factory, BookingRequest(offering_id, 8, TUE_10), now=NOW + 29 * H / 60)
    later = NOW + timedelta(minutes=30)
    second = await book(uow_factory, BookingRequest(offering_id, 8, TUE_10), now=later)
    assert second.status == "confirmed"
    async with uow_factory() as uow:
        assert (await uow.bookings.get(held.id)).status == "expired"


async def test_group_seats_fill_up(uow_factory):
    offering_id = await seed(uow_factory, capacity=2)
    first = await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW)
    second = await book(uow_factory, BookingRequest(offering_id, 8, TUE_10), now=NOW)
    assert first.slot_key == second.slot_key
    with pytest.raises(SlotTaken):
        await book(uow_factory, BookingRequest(offering_id, 9, TUE_10), now=NOW)
    async with uow_factory() as uow:
        offering = await uow.offerings.get(offering_id)
        slots = await load_open_slots(uow, offering, now=NOW, start=TUE_10 - H, end=TUE_10 + H)
    assert [s.start for s in slots] == [TUE_10 - H]


async def test_per_student_limit(uow_factory):
    offering_id = await seed(uow_factory, max_per_student=1)
    await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW)
    with pytest.raises(NotAllowed, match="1 upcoming session of"):
        await book(uow_factory, BookingRequest(offering_id, 7, TUE_10 + 2 * H), now=NOW)


async def test_unpublished_offering_cannot_be_booked(uow_factory):
    offering_id = await seed(uow_factory, status="unpublished")
    with pytest.raises(NotFound, match="not available for booking"):
        await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW)


async def test_slot_outside_hours_or_notice_is_refused(uow_factory):
    offering_id = await seed(uow_factory)
    with pytest.raises(SlotTaken):
        await book(uow_factory, BookingRequest(offering_id, 7, TUE_10.replace(hour=20)), now=NOW)
    with pytest.raises(SlotTaken):  # 08:30 start is inside the 60-minute notice at 08:00
        await book(uow_factory, BookingRequest(offering_id, 7, NOW + H / 2), now=NOW)


async def test_two_students_racing_for_one_slot_exactly_one_wins(uow_factory):
    offering_id = await seed(uow_factory)
    results = await asyncio.gather(
        *(book(uow_factory, BookingRequest(offering_id, student, TUE_10), now=NOW)
          for student in (7, 8, 9, 10)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, SlotTaken) for r in losers), losers
    async with uow_factory() as uow:
        active = await uow.bookings.overlapping_active(winners[0].coach_id, TUE_10, TUE_10 + H)
    assert [b.student_id for b in active] == [winners[0].student_id]


async def test_confirming_a_hold_is_idempotent(uow_factory):
    offering_id = await seed(uow_factory)
    held = await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW,
                      hold=timedelta(minutes=30))
    first = await confirm_held(uow_factory, held.id, now=NOW + timedelta(minutes=5))
    again = await confirm_held(uow_factory, held.id, now=NOW + timedelta(minutes=6))
    assert first.status == again.status == "confirmed"
    assert again.expires_at is None


async def test_late_payment_confirms_when_the_slot_is_still_free(uow_factory):
    offering_id = await seed(uow_factory)
    held = await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW,
                      hold=timedelta(minutes=30))
    late = NOW + timedelta(hours=2)
    await book(uow_factory, BookingRequest(offering_id, 8, TUE_10 + H), now=late)  # expires hold
    async with uow_factory() as uow:
        assert (await uow.bookings.get(held.id)).status == "expired"
    assert (await confirm_held(uow_factory, held.id, now=late)).status == "confirmed"


async def test_late_payment_for_a_taken_slot_is_refused(uow_factory):
    offering_id = await seed(uow_factory)
    held = await book(uow_factory, BookingRequest(offering_id, 7, TUE_10), now=NOW,
                      hold=timedelta(minutes=30))
    late = NOW + timedelta(hours=2)
    await book(uow_factory, BookingRequest(offering_id, 8, TUE_10), now=late)
    with pytest.raises(SlotTaken, match="taken by someone else"):
        await confirm_held(uow_factory, held.id, now=late)
    async with uow_factory() as uow:
        assert (await uow.bookings.get(held.id)).status == "expired"
