"""UTC-aware timestamps on both backends; naive values refused; money stays integral."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import BigInteger, Numeric, insert, select
from sqlalchemy.exc import StatementError

from storage.models import AuditEntry, Base, Booking, Payment
from tests.storage.factories import make_booking, seed_coach_and_offering

BERLIN = ZoneInfo("Europe/Berlin")


async def test_aware_datetimes_come_back_as_utc(uow_factory):
    start = datetime(2030, 7, 1, 18, 30, tzinfo=BERLIN)  # 16:30 UTC (summer time)
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        booking = await uow.bookings.add(make_booking(offering, start=start))
        await uow.commit()
        booking_id = booking.id

    async with uow_factory() as uow:
        uow.session.expunge_all()
        loaded = await uow.bookings.get(booking_id)
        assert loaded is not None
        assert loaded.start_at == datetime(2030, 7, 1, 16, 30, tzinfo=UTC)
        assert loaded.start_at.tzinfo is UTC
        assert loaded.end_at.tzinfo is UTC
        assert loaded.created_at.tzinfo is UTC
        assert loaded.expires_at is None


async def test_comparisons_in_sql_use_the_instant_not_the_wall_clock(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        await uow.bookings.add(make_booking(offering, start=datetime(2030, 1, 1, 10, tzinfo=UTC)))
        await uow.commit()

    # 11:30 in UTC+02 is 09:30 UTC: before the booking.
    cutoff = datetime(2030, 1, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    async with uow_factory() as uow:
        later = await uow.session.scalars(select(Booking).where(Booking.start_at > cutoff))
        assert len(list(later)) == 1


def test_assigning_a_naive_datetime_raises_value_error():
    with pytest.raises(ValueError, match="naive datetime refused"):
        Booking(start_at=datetime(2030, 1, 1, 10, 0))
    entry = AuditEntry()
    with pytest.raises(ValueError, match="naive datetime refused"):
        entry.at = datetime(2030, 1, 1)


async def test_naive_datetime_refused_on_write_through_core(uow_factory):
    async with uow_factory() as uow:
        statement = insert(AuditEntry).values(
            guild_id=1, actor_id=2, action="x", at=datetime(2030, 1, 1, 12, 0)
        )
        with pytest.raises(StatementError) as raised:
            await uow.session.execute(statement)
        assert isinstance(raised.value.orig, ValueError)


async def test_money_round_trips_as_exact_integers(uow_factory):
    large = 9_007_199_254_740_993  # 2**53 + 1: not representable as a float
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        booking = await uow.bookings.add(make_booking(offering))
        payment = Payment(
            booking_id=booking.id,
            amount_minor=large,
            currency="JPY",
            platform_fee_minor=1,
            status="paid",
        )
        uow.session.add(payment)
        await uow.commit()
        payment_id = payment.id

    async with uow_factory() as uow:
        uow.session.expunge_all()
        loaded = await uow.session.get(Payment, payment_id)
        assert loaded is not None
        assert type(loaded.amount_minor) is int
        assert loaded.amount_minor == large


# Tables whose amounts are in their parent row's currency.
CURRENCY_FROM_PARENT = {"offering_addons": "offerings", "refunds": "payments"}


def test_money_columns_are_big_integers_and_no_column_is_fractional():
    for table in Base.metadata.tables.values():
        for column in table.columns:
            where = f"{table.name}.{column.name}"
            assert not isinstance(column.type, Numeric), f"{where} is fractional"
            if column.name.endswith("_minor"):
                assert isinstance(column.type, BigInteger), where
                currency_table = Base.metadata.tables[
                    CURRENCY_FROM_PARENT.get(table.name, table.name)
                ]
                assert "currency" in currency_table.columns, f"{where} has no currency"
