"""The payments repository on SQLite and PostgreSQL: rows, lookups, refund numbering and the
queries the maintenance pass relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from storage.models import Booking
from tests.payments.helpers import NOW, hold, seed

LATER = NOW + timedelta(hours=1)


async def add_payment(uow_factory, booking_id, **fields):
    async with uow_factory() as uow:
        values = {"booking_id": booking_id, "checkout_session_id": f"cs_{booking_id}",
                  "amount_minor": 2500, "currency": "USD", "status": "pending", **fields}
        payment = await uow.payments.add(**values)
        await uow.commit()
        return payment.id


async def test_payments_are_found_by_every_provider_id(uow_factory):
    booking_id = await hold(uow_factory, await seed(uow_factory))
    payment_id = await add_payment(uow_factory, booking_id, payment_intent_id="pi_1")
    async with uow_factory() as uow:
        assert (await uow.payments.for_booking(booking_id)).id == payment_id
        assert (await uow.payments.by_checkout_session(f"cs_{booking_id}")).id == payment_id
        assert (await uow.payments.by_payment_intent("pi_1")).id == payment_id
        assert await uow.payments.by_checkout_session("cs_other") is None
        payment = await uow.payments.get(payment_id)
        await uow.payments.update(payment, status="paid")
        with pytest.raises(AttributeError):
            await uow.payments.update(payment, colour="blue")
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.payments.get(payment_id)).status == "paid"


async def test_a_checkout_session_belongs_to_one_payment(uow_factory):
    booking_id = await hold(uow_factory, await seed(uow_factory))
    await add_payment(uow_factory, booking_id)
    with pytest.raises(IntegrityError):
        await add_payment(uow_factory, booking_id)


async def test_refund_numbers_and_keys(uow_factory):
    booking_id = await hold(uow_factory, await seed(uow_factory))
    payment_id = await add_payment(uow_factory, booking_id, status="paid")
    async with uow_factory() as uow:
        assert await uow.payments.next_refund_number(booking_id) == 1
        first = await uow.payments.add_refund(
            payment_id=payment_id, idempotency_key=f"booking:{booking_id}:refund:1",
            amount_minor=500)
        await uow.payments.add_refund(payment_id=payment_id, idempotency_key="external:re_x",
                                      provider_refund_id="re_x", amount_minor=100,
                                      status="succeeded")
        assert await uow.payments.next_refund_number(booking_id) == 2
        assert (await uow.payments.refund_by_key(f"booking:{booking_id}:refund:1")).id == (
            first.id)
        assert (await uow.payments.refund_by_provider_id("re_x")).amount_minor == 100
        assert [r.amount_minor for r in await uow.payments.refunds_of(payment_id)] == [500, 100]
        assert [r.id for r in await uow.payments.unsent_refunds(10)] == [first.id]
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with uow_factory() as uow:
            await uow.payments.add_refund(payment_id=payment_id,
                                          idempotency_key=f"booking:{booking_id}:refund:1",
                                          amount_minor=1)


async def test_unsettled_refunds_are_sent_ones_still_pending(uow_factory):
    booking_id = await hold(uow_factory, await seed(uow_factory))
    payment_id = await add_payment(uow_factory, booking_id, status="paid")
    async with uow_factory() as uow:
        for key, provider, status in (("a", "re_a", "pending"), ("b", "re_b", "succeeded"),
                                      ("c", None, "pending"), ("d", "re_d", "requires_action")):
            refund = await uow.payments.add_refund(payment_id=payment_id, idempotency_key=key,
                                                   provider_refund_id=provider,
                                                   amount_minor=1, status=status)
            refund.updated_at = NOW
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.payments.unsettled_refunds(LATER, 10)
        assert [r.idempotency_key for r in found] == ["a", "d"]
        assert await uow.payments.unsettled_refunds(NOW, 10) == []


async def test_due_holds(uow_factory):
    seeded = await seed(uow_factory)
    due = await hold(uow_factory, seeded)  # expires NOW + 32 min
    released = await hold(uow_factory, seeded, start=NOW + timedelta(days=1, hours=3))
    processing = await hold(uow_factory, seeded, start=NOW + timedelta(days=1, hours=5))
    running = await hold(uow_factory, seeded, start=NOW + timedelta(days=1, hours=7),
                         minutes=120)
    await add_payment(uow_factory, due)
    await add_payment(uow_factory, released)
    await add_payment(uow_factory, processing, payment_intent_id="pi_slow")
    async with uow_factory() as uow:
        for booking_id in (released, processing):
            booking = await uow.bookings.get(booking_id)
            booking.status = "expired"
        await uow.commit()

    async with uow_factory() as uow:
        found = {h.booking.id: h.payment for h in await uow.payments.due_holds(LATER, 10)}
        assert set(found) == {due, released}
        assert found[due].checkout_session_id == f"cs_{due}"
        early = {h.booking.id for h in await uow.payments.due_holds(NOW, 10)}
        assert early == {released}
        assert running not in found


async def test_lock_booking_reads_afresh(uow_factory):
    booking_id = await hold(uow_factory, await seed(uow_factory))
    async with uow_factory(immediate=True) as uow:
        stale = await uow.bookings.get(booking_id)
        # Changed behind the session's back (as another process's committed write would be).
        await uow.session.execute(update(Booking).where(Booking.id == booking_id)
                                  .values(status="expired")
                                  .execution_options(synchronize_session=False))
        assert stale.status == "pending_payment"
        fresh = await uow.payments.lock_booking(booking_id)
        assert fresh is stale and fresh.status == "expired"
        assert await uow.payments.lock_booking(999_999) is None
