"""Package credits on SQLite and PostgreSQL (`uow_factory`): the balance, spending them
soonest-expiring first until none are left, expired credits unusable, giving one back, and
the expiry notice claimed exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduling.credits import CreditBalance, credit_balance, return_credit, spend_credits
from scheduling.errors import Conflict, NotAllowed
from scheduling.packages import send_expiry_notices
from storage.models import CreditUse
from tests.cogs.booking_seed import create_coach, create_offering, insert_booking

GUILD = 1
STUDENT = 7
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def world(uow_factory):
    coach = await create_coach(uow_factory, GUILD, 500, name="Coach Carla")
    offering = await create_offering(uow_factory, coach, price_minor=3000, currency="USD")
    other = await create_offering(uow_factory, coach, title="Other", price_minor=3000)
    return {"uow": uow_factory, "offering": offering, "other": other}


async def add_purchase(uow_factory, offering, *, credits, expires_at, status="active",
                       student_id=STUDENT, paid_at=NOW - DAY):
    async with uow_factory() as uow:
        package = await uow.packages.add_package(
            guild_id=GUILD, offering_id=offering.id, sessions=max(credits, 2),
            price_minor=10000, currency="USD", valid_days=30)
        purchase = await uow.packages.add_purchase(
            guild_id=GUILD, package_id=package.id, offering_id=offering.id,
            student_id=student_id, credits=credits, status=status, amount_minor=10000,
            currency="USD", paid_at=paid_at if status == "active" else None,
            expires_at=expires_at if status == "active" else None)
        await uow.commit()
        return purchase.id


async def new_bookings(w, count, first=datetime(2026, 12, 1, 10, tzinfo=UTC)):
    return [(await insert_booking(w["uow"], w["offering"], STUDENT, first + i * DAY)).id
            for i in range(count)]


async def balance(w, now=NOW, student_id=STUDENT, offering=None):
    async with w["uow"]() as uow:
        return await credit_balance(uow, guild_id=GUILD, student_id=student_id,
                                    offering_id=(offering or w["offering"]).id, now=now)


async def spend(w, booking_ids, now=NOW):
    async with w["uow"](immediate=True) as uow:
        await spend_credits(uow, guild_id=GUILD, student_id=STUDENT,
                            offering_id=w["offering"].id, booking_ids=booking_ids, now=now)
        await uow.commit()


async def uses(w):
    async with w["uow"]() as uow:
        return [(u.purchase_id, u.booking_id, u.returned_at is not None)
                for u in await uow.session.scalars(select(CreditUse).order_by(CreditUse.id))]


async def test_spending_until_none_are_left_uses_the_soonest_expiry_first(world):
    later = await add_purchase(world["uow"], world["offering"], credits=3,
                               expires_at=NOW + 30 * DAY)
    sooner = await add_purchase(world["uow"], world["offering"], credits=2,
                                expires_at=NOW + 10 * DAY)
    assert await balance(world) == CreditBalance(5, NOW + 10 * DAY)
    booked = await new_bookings(world, 6)

    await spend(world, booked[:2])
    assert await balance(world) == CreditBalance(3, NOW + 30 * DAY)
    await spend(world, booked[2:5])
    assert await balance(world) == CreditBalance(0, None)
    assert [(p, b) for p, b, _ in await uses(world)] == [
        (sooner, booked[0]), (sooner, booked[1]),
        (later, booked[2]), (later, booked[3]), (later, booked[4])]

    with pytest.raises(NotAllowed, match=r"You have 0 credits left for \*\*Mock interview\*\*, "
                                         r"and this needs 1 credit"):
        await spend(world, booked[5:])
    assert len(await uses(world)) == 5


async def test_a_batch_larger_than_the_balance_writes_nothing(world):
    await add_purchase(world["uow"], world["offering"], credits=2, expires_at=NOW + 10 * DAY)
    booked = await new_bookings(world, 3)
    with pytest.raises(NotAllowed, match=r"You have 2 credits left .* needs 3 credits"):
        await spend(world, booked)
    assert await uses(world) == []
    assert (await balance(world)).remaining == 2


async def test_one_batch_can_span_two_purchases(world):
    first = await add_purchase(world["uow"], world["offering"], credits=2,
                               expires_at=NOW + 5 * DAY)
    second = await add_purchase(world["uow"], world["offering"], credits=2,
                                expires_at=NOW + 6 * DAY)
    booked = await new_bookings(world, 3)
    await spend(world, booked)
    assert [p for p, _, _ in await uses(world)] == [first, first, second]
    assert await balance(world) == CreditBalance(1, NOW + 6 * DAY)


async def test_expired_pending_and_foreign_credits_are_not_usable(world):
    expires = NOW + 2 * DAY
    await add_purchase(world["uow"], world["offering"], credits=3, expires_at=expires)
    await add_purchase(world["uow"], world["offering"], credits=4, expires_at=None,
                       status="pending_payment")
    await add_purchase(world["uow"], world["offering"], credits=5, expires_at=None,
                       status="failed")
    await add_purchase(world["uow"], world["offering"], credits=2, expires_at=NOW + 9 * DAY,
                       student_id=99)
    await add_purchase(world["uow"], world["other"], credits=2, expires_at=NOW + 9 * DAY)

    assert (await balance(world)).remaining == 3
    assert (await balance(world, now=expires - timedelta(seconds=1))).remaining == 3
    assert await balance(world, now=expires) == CreditBalance(0, None)  # expired at the end
    [booking] = await new_bookings(world, 1, first=expires + 5 * DAY)
    with pytest.raises(NotAllowed, match="You have 0 credits left"):
        await spend(world, [booking], now=expires)
    # ...while before the expiry the same credit books a session that is later.
    await spend(world, [booking], now=expires - timedelta(minutes=1))
    assert len(await uses(world)) == 1


async def test_a_credit_is_returned_once_and_counts_again(world):
    await add_purchase(world["uow"], world["offering"], credits=2, expires_at=NOW + 9 * DAY)
    booked = await new_bookings(world, 2)
    await spend(world, booked)
    assert (await balance(world)).remaining == 0

    async with world["uow"]() as uow:
        assert await return_credit(uow, booked[0], now=NOW) is True
        assert await return_credit(uow, booked[0], now=NOW) is False
        await uow.commit()
    async with world["uow"]() as uow:
        assert await return_credit(uow, 987654, now=NOW) is False
    assert (await balance(world)).remaining == 1
    assert [r for _, _, r in await uses(world)] == [True, False]


async def test_a_booking_spends_at_most_one_credit(world):
    await add_purchase(world["uow"], world["offering"], credits=3, expires_at=NOW + 9 * DAY)
    booked = await new_bookings(world, 1)
    await spend(world, booked)
    with pytest.raises(Conflict, match="already used"):
        await spend(world, booked)
    assert (await balance(world)).remaining == 2


async def test_expiry_notice_is_claimed_once_seven_days_ahead(world):
    expires = NOW + 20 * DAY
    purchase = await add_purchase(world["uow"], world["offering"], credits=3,
                                  expires_at=expires)
    used_up = await add_purchase(world["uow"], world["offering"], credits=1,
                                 expires_at=expires)
    [booking] = await new_bookings(world, 1)
    async with world["uow"]() as uow:
        await uow.packages.add_credit_use(purchase_id=used_up, booking_id=booking, used_at=NOW)
        await uow.commit()

    assert await send_expiry_notices(world["uow"], now=expires - 7 * DAY - timedelta(
        minutes=1)) == []
    [notice] = await send_expiry_notices(world["uow"], now=expires - 7 * DAY)
    assert notice.user_id == STUDENT and notice.booking_id is None
    assert notice.text.startswith("3 credits for **Mock interview** expire "
                                  f"<t:{int(expires.timestamp())}:R>")
    assert "/book" in notice.text
    assert await send_expiry_notices(world["uow"], now=expires - 6 * DAY) == []
    async with world["uow"]() as uow:
        assert (await uow.packages.get_purchase(purchase)).expiry_notice_sent_at == (
            expires - 7 * DAY)
        assert (await uow.packages.get_purchase(used_up)).expiry_notice_sent_at is None
