"""A weekly series is booked in one transaction on SQLite and PostgreSQL: all weeks or none,
the per-student limit counts the whole series, and two racing series never overlap."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduling.booking import BookingRequest, TimesUnavailable, book, book_many
from scheduling.errors import NotAllowed
from storage.models import Booking
from tests.storage.test_booking_service import NOW, TUE_10, seed

WEEK = timedelta(days=7)


def weekly(count, first=TUE_10):
    return [first + k * WEEK for k in range(count)]


async def all_bookings(uow_factory):
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(Booking).order_by(Booking.start_at)))


async def test_every_week_is_booked_with_one_series_id(uow_factory):
    offering_id = await seed(uow_factory)
    booked = await book_many(uow_factory, BookingRequest(offering_id, 7, TUE_10), weekly(6),
                             series_id="s:one", now=NOW)
    assert [b.start_at for b in booked] == weekly(6)
    stored = await all_bookings(uow_factory)
    assert [(b.series_id, b.status) for b in stored] == [("s:one", "confirmed")] * 6


async def test_one_taken_week_books_nothing_and_names_it(uow_factory):
    offering_id = await seed(uow_factory)
    taken = TUE_10 + 3 * WEEK
    await book(uow_factory, BookingRequest(offering_id, 8, taken), now=NOW)
    with pytest.raises(TimesUnavailable) as info:
        await book_many(uow_factory, BookingRequest(offering_id, 7, TUE_10), weekly(6),
                        series_id="s:two", now=NOW)
    assert info.value.unavailable == (taken,)
    assert info.value.free == tuple(s for s in weekly(6) if s != taken)
    assert f"<t:{int(taken.timestamp())}:D>" in info.value.user_message
    assert [b.student_id for b in await all_bookings(uow_factory)] == [8]


async def test_weeks_past_the_booking_window_are_unavailable(uow_factory):
    offering_id = await seed(uow_factory, booking_window_days=30)
    with pytest.raises(TimesUnavailable) as info:
        await book_many(uow_factory, BookingRequest(offering_id, 7, TUE_10), weekly(6),
                        series_id="s:far", now=NOW)
    assert info.value.unavailable == tuple(weekly(6)[5:])


async def test_the_per_student_limit_counts_the_whole_series(uow_factory):
    offering_id = await seed(uow_factory, max_per_student=4)
    with pytest.raises(NotAllowed) as info:
        await book_many(uow_factory, BookingRequest(offering_id, 7, TUE_10), weekly(6),
                        series_id="s:limit", now=NOW)
    assert "series of 6" in info.value.user_message
    assert await all_bookings(uow_factory) == []


async def test_a_failing_step_inside_the_transaction_undoes_every_week(uow_factory):
    offering_id = await seed(uow_factory)

    async def refuse(uow, bookings):
        assert len(bookings) == 3
        raise NotAllowed("no credits")

    with pytest.raises(NotAllowed):
        await book_many(uow_factory, BookingRequest(offering_id, 7, TUE_10), weekly(3),
                        series_id="s:undo", now=NOW, on_booked=refuse)
    assert await all_bookings(uow_factory) == []


async def test_two_racing_series_on_the_same_times_never_overlap(uow_factory):
    offering_id = await seed(uow_factory)
    results = await asyncio.gather(*(
        book_many(uow_factory, BookingRequest(offering_id, student, TUE_10), weekly(4),
                  series_id=f"s:{student}", now=NOW) for student in (7, 8)),
        return_exceptions=True)
    won = [r for r in results if isinstance(r, list)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], TimesUnavailable)
    assert len(await all_bookings(uow_factory)) == 4
