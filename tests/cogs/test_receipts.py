"""Receipts: `/sessions` shows each session's payment status, and the session card (which the
confirmation DM carries) has the amount paid, looked up from the booking's payment."""

from __future__ import annotations

import pytest

from bot.session_card import card_embed, paid_for_card
from scheduling.money import Money
from scheduling.provisioning import SessionLocation, amount_paid, session_card
from storage.models import Payment, Refund
from tests.cogs.booking_seed import TUE, add_booking, at, seed_coach, seed_offering


@pytest.fixture
async def setup(coachbot, members):
    student, _, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach, price_minor=2500, currency="USD")
    return student, coach_member, offering


async def booking_with_payment(bot, offering, student_id, start, *, status=None,
                               booking_status="confirmed", refunds=()):
    booking = await add_booking(bot, offering, student_id, start, status=booking_status)
    if status is None:
        return booking
    async with bot.services.uow() as uow:
        payment = Payment(booking_id=booking.id, checkout_session_id=f"cs_{booking.id}",
                          amount_minor=2500, currency="USD", status=status)
        uow.session.add(payment)
        await uow.session.flush()
        for number, (minor, refund_status) in enumerate(refunds):
            uow.session.add(Refund(payment_id=payment.id, amount_minor=minor,
                                   status=refund_status,
                                   idempotency_key=f"refund:{payment.id}:{number}"))
        await uow.commit()
    return booking


def shown(response):
    return [{f.name: f.value for f in embed.fields} for embed in response.embeds]


async def test_sessions_show_the_payment_status_of_each_session(coachbot, driver, setup):
    student, coach_member, offering = setup
    await booking_with_payment(coachbot, offering, student.id, at(TUE, 10), status="paid")
    await booking_with_payment(coachbot, offering, student.id, at(TUE, 12),
                               status="partially_refunded",
                               refunds=((1000, "succeeded"), (500, "failed")))
    await booking_with_payment(coachbot, offering, student.id, at(TUE, 14), status="pending",
                               booking_status="pending_payment")
    await booking_with_payment(coachbot, offering, student.id, at(TUE, 16))  # free / no row

    reply = (await driver.slash(student, "sessions")).last

    payments = [fields.get("Payment") for fields in shown(reply)]
    assert payments == ["Paid $25.00", "Paid $25.00, $10.00 refunded", "$25.00 not paid yet",
                        None]
    # The coach sees the same status on their list.
    coach_view = (await driver.slash(coach_member, "sessions")).last
    assert [fields.get("Payment") for fields in shown(coach_view)] == payments


async def test_past_sessions_show_refunds_and_failed_payments(coachbot, driver, setup):
    student, _, offering = setup
    await booking_with_payment(coachbot, offering, student.id, at(TUE, 10), status="refunded",
                               booking_status="cancelled", refunds=((2500, "succeeded"),))
    await booking_with_payment(coachbot, offering, student.id, at(TUE, 12), status="failed",
                               booking_status="cancelled")

    opened = await driver.slash(student, "sessions")
    past = (await driver.click(student, opened.last, "sessions:past")).last

    assert sorted(fields.get("Payment") for fields in shown(past)) == [
        "Paid $25.00, refunded in full", "Payment of $25.00 failed"]


async def test_the_session_card_shows_the_amount_paid(coachbot, setup):
    student, _, offering = setup
    paid = await booking_with_payment(coachbot, offering, student.id, at(TUE, 10),
                                      status="paid")
    free = await booking_with_payment(coachbot, offering, student.id, at(TUE, 12))
    unpaid = await booking_with_payment(coachbot, offering, student.id, at(TUE, 14),
                                        status="pending", booking_status="pending_payment")

    cards = {}
    async with coachbot.services.uow() as uow:
        for booking in (paid, free, unpaid):
            context = await uow.provisioning.context(booking.id)
            amount = await paid_for_card(uow, booking.id)
            cards[booking.id] = card_embed(session_card(
                context.booking, context.offering, context.coach, SessionLocation(),
                paid=amount))

    def card_fields(booking):
        return {f.name: f.value for f in cards[booking.id].fields}

    assert card_fields(paid)["Paid"] == "$25.00"
    assert "Paid" not in card_fields(free)
    assert "Paid" not in card_fields(unpaid)


class Row:
    def __init__(self, status, amount_minor=2500, currency="EUR"):
        self.status, self.amount_minor, self.currency = status, amount_minor, currency


@pytest.mark.parametrize(("status", "expected"), [
    ("paid", Money(2500, "EUR")), ("partially_refunded", Money(2500, "EUR")),
    ("refunded", Money(2500, "EUR")), ("pending", None), ("failed", None), ("expired", None),
])
def test_amount_paid_counts_settled_payments_only(status, expected):
    assert amount_paid(Row(status)) == expected


def test_no_payment_or_nothing_charged_is_no_receipt():
    assert amount_paid(None) is None
    assert amount_paid(Row("paid", amount_minor=0)) is None  # a 100 % promotion code


class RefundRow:
    def __init__(self, amount_minor, status="succeeded"):
        self.amount_minor, self.status = amount_minor, status


@pytest.mark.parametrize(("status", "refunds", "expected"), [
    ("paid", (), "Paid €25.00"),
    ("refunded", (RefundRow(2500),), "Paid €25.00, refunded in full"),
    ("partially_refunded", (RefundRow(500), RefundRow(700, "pending")),
     "Paid €25.00, €5.00 refunded"),
    ("partially_refunded", (RefundRow(700, "pending"),), "Paid €25.00, partly refunded"),
    ("pending", (), "€25.00 not paid yet"),
    ("failed", (), "Payment of €25.00 failed"),
    ("expired", (), "Not paid (€25.00): the payment page expired"),
])
def test_payment_status_texts(status, refunds, expected):
    from scheduling.sessions import payment_text

    assert payment_text(Row(status), refunds) == expected
    assert payment_text(None) is None
