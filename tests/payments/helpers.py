"""A coach, a paid offering and a booking on hold, for the payment tests (any backend)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scheduling.booking import BookingRequest, book
from storage.models import AvailabilityWindow, GuildSettings, OfferingAddon

GUILD = 4242
COACH_USER = 500
STUDENT = 7
OTHER_STUDENT = 8
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the `clock` fixture's start (a Monday)
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PUBLIC_URL = "https://coachbot.example"
HOLD = timedelta(minutes=32)


@dataclass
class Seeded:
    offering_id: int
    coach_id: int
    addon_ids: tuple[int, ...] = ()


async def seed(uow_factory, *, price_minor: int = 2500, currency: str = "USD",
               allow_promotion_codes: bool = False, addons: tuple[tuple[str, int, int], ...] = (),
               stripe_account: str | None = None, fee_percent: int | None = None,
               guild_id: int = GUILD, coach_user: int = COACH_USER, **offering_fields) -> Seeded:
    """A coach in UTC (Mon-Fri 09:00-17:00) with a published 60-minute paid offering."""
    async with uow_factory() as uow:
        coach = await uow.coaches.create(guild_id=guild_id, user_id=coach_user,
                                         display_name="Coach Carla")
        coach.stripe_account_id = stripe_account
        schedule = await uow.schedules.create(coach_id=coach.id, name="default",
                                              timezone="UTC", is_default=True)
        for day in range(5):
            uow.session.add(AvailabilityWindow(schedule_id=schedule.id, weekday=day,
                                               start_minute=9 * 60, end_minute=17 * 60))
        if fee_percent is not None:
            uow.session.add(GuildSettings(guild_id=guild_id, platform_fee_percent=fee_percent))
        fields = {"min_notice_minutes": 60, "duration_minutes": 60, "status": "published",
                  "title": "Mock interview", **offering_fields}
        offering = await uow.offerings.create(
            guild_id=guild_id, coach_id=coach.id, schedule_id=schedule.id,
            price_minor=price_minor, currency=currency,
            allow_promotion_codes=allow_promotion_codes, **fields)
        rows = [OfferingAddon(offering_id=offering.id, name=name, price_minor=price,
                              extra_minutes=minutes) for name, price, minutes in addons]
        uow.session.add_all(rows)
        await uow.session.flush()
        await uow.commit()
        return Seeded(offering.id, coach.id, tuple(r.id for r in rows))


async def hold(uow_factory, seeded: Seeded, *, start: datetime = TUE_10,
               student: int = STUDENT, now: datetime = NOW, minutes: int = 32) -> int:
    booking = await book(uow_factory, BookingRequest(seeded.offering_id, student, start),
                         now=now, hold=timedelta(minutes=minutes))
    return booking.id


async def booking_row(uow_factory, booking_id: int):
    async with uow_factory() as uow:
        return await uow.bookings.get(booking_id)


async def payment_row(uow_factory, booking_id: int):
    async with uow_factory() as uow:
        return await uow.payments.for_booking(booking_id)


async def refund_rows(uow_factory, booking_id: int):
    async with uow_factory() as uow:
        return await uow.payments.refunds_of_booking(booking_id)
