"""Stripe events applied to bookings exactly once: paid, delayed, failed and expired
checkouts, duplicates and replays, events out of order, and payment that arrives after the
hold ran out (confirmed if the time is free, else refunded in full automatically)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from payments.objects import event_from_dict
from scheduling.booking import BookingRequest, book
from scheduling.payments import (
    APPLIED,
    DUPLICATE,
    IGNORED,
    NotifyStudent,
    Provision,
    SendRefund,
    handle_event,
    send_refund,
    start_checkout,
)
from storage.models import BookingStatusChange, ProcessedWebhookEvent
from tests.fake_stripe import build_event
from tests.payments.helpers import (
    NOW,
    OTHER_STUDENT,
    PUBLIC_URL,
    STUDENT,
    TUE_10,
    booking_row,
    hold,
    payment_row,
    refund_rows,
    seed,
)

LATER = NOW + timedelta(minutes=5)
AFTER_HOLD = NOW + timedelta(hours=1)


async def checkout(uow_factory, gateway, **seed_fields):
    seeded = await seed(uow_factory, **seed_fields)
    booking_id = await hold(uow_factory, seeded)
    started = await start_checkout(uow_factory, gateway, booking_id, now=NOW,
                                   public_url=PUBLIC_URL)
    return seeded, booking_id, started.session_id


async def apply(uow_factory, fake_event, now=LATER):
    return await handle_event(uow_factory, event_from_dict(fake_event), now=now)


async def history(uow_factory, booking_id):
    async with uow_factory() as uow:
        rows = await uow.session.scalars(
            select(BookingStatusChange).where(BookingStatusChange.booking_id == booking_id)
            .order_by(BookingStatusChange.id))
        return [(r.from_status, r.to_status, r.reason) for r in rows]


async def test_paid_checkout_confirms_the_booking(uow_factory, gateway, fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)

    outcome = await apply(uow_factory, fake_stripe.complete_checkout(session_id))

    assert (outcome.status, outcome.booking_id) == (APPLIED, booking_id)
    assert outcome.actions == (Provision(booking_id),)
    booking = await booking_row(uow_factory, booking_id)
    assert (booking.status, booking.expires_at) == ("confirmed", None)
    payment = await payment_row(uow_factory, booking_id)
    assert payment.status == "paid"
    assert payment.payment_intent_id == fake_stripe.sessions[session_id]["payment_intent"]
    assert payment.amount_minor == 2500
    assert (await history(uow_factory, booking_id))[-1] == ("pending_payment", "confirmed",
                                                            "paid")


async def test_the_same_event_three_times_changes_things_once(uow_factory, gateway,
                                                             fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    event = fake_stripe.complete_checkout(session_id)

    outcomes = [await apply(uow_factory, event) for _ in range(3)]

    assert [o.status for o in outcomes] == [APPLIED, DUPLICATE, DUPLICATE]
    assert [o.actions for o in outcomes] == [(Provision(booking_id),), (), ()]
    assert [h[1] for h in await history(uow_factory, booking_id)] == ["pending_payment",
                                                                      "confirmed"]
    async with uow_factory() as uow:
        recorded = await uow.session.scalar(select(func.count()).select_from(
            ProcessedWebhookEvent))
    assert recorded == 1


async def test_a_second_event_for_the_same_payment_changes_nothing(uow_factory, gateway,
                                                                  fake_stripe):
    """Stripe may send the same fact under a new event id (a resend after a replay)."""
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    event = fake_stripe.complete_checkout(session_id)
    await apply(uow_factory, event)
    again = build_event(event["type"], event["data"]["object"])

    outcome = await apply(uow_factory, again)

    assert (outcome.status, outcome.actions) == (APPLIED, ())
    assert "already" in outcome.detail
    assert len(await history(uow_factory, booking_id)) == 2


async def test_unpaid_completion_waits_for_the_delayed_payment(uow_factory, gateway,
                                                               fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)

    waiting = await apply(uow_factory, fake_stripe.complete_checkout(session_id, delayed=True))

    assert (waiting.status, waiting.actions) == (APPLIED, ())
    assert (await booking_row(uow_factory, booking_id)).status == "pending_payment"
    payment = await payment_row(uow_factory, booking_id)
    assert payment.status == "pending" and payment.payment_intent_id is not None

    paid = await apply(uow_factory, fake_stripe.settle_delayed_payment(session_id),
                       now=LATER + timedelta(minutes=5))

    assert paid.actions == (Provision(booking_id),)
    assert (await booking_row(uow_factory, booking_id)).status == "confirmed"
    assert (await payment_row(uow_factory, booking_id)).status == "paid"


async def test_failed_delayed_payment_releases_the_hold_and_tells_the_student(
        uow_factory, gateway, fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    await apply(uow_factory, fake_stripe.complete_checkout(session_id, delayed=True))

    outcome = await apply(uow_factory,
                          fake_stripe.settle_delayed_payment(session_id, succeeded=False))

    assert (await booking_row(uow_factory, booking_id)).status == "expired"
    assert (await payment_row(uow_factory, booking_id)).status == "failed"
    [notice] = outcome.actions
    assert isinstance(notice, NotifyStudent) and notice.user_id == STUDENT
    assert "did not go through" in notice.text and "nothing was charged" in notice.text
    # The time itself is free again, so it is the first alternative offered.
    assert f"<t:{int(TUE_10.timestamp())}:F>" in notice.text.split("nearest free times")[1]


async def test_expired_checkout_releases_the_hold(uow_factory, gateway, fake_stripe):
    seeded, booking_id, session_id = await checkout(uow_factory, gateway)

    outcome = await apply(uow_factory, fake_stripe.expire_checkout(session_id))

    assert (outcome.status, outcome.actions) == (APPLIED, ())
    assert (await booking_row(uow_factory, booking_id)).status == "expired"
    assert (await payment_row(uow_factory, booking_id)).status == "expired"
    # Someone else can book the time now.
    other = await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
                       now=LATER, hold=timedelta(minutes=32))
    assert other.status == "pending_payment"


async def test_expired_after_completed_changes_nothing(uow_factory, gateway, fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    completed = fake_stripe.complete_checkout(session_id)
    await apply(uow_factory, completed)
    # An expired event for the session (as if delivered late or forged by a replay tool).
    session = dict(completed["data"]["object"], status="expired")

    outcome = await apply(uow_factory, build_event("checkout.session.expired", session))

    assert outcome.actions == ()
    assert (await booking_row(uow_factory, booking_id)).status == "confirmed"
    assert (await payment_row(uow_factory, booking_id)).status == "paid"


async def test_completed_delivered_after_expired_confirms_if_still_free(uow_factory, gateway,
                                                                       fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    completed = fake_stripe.complete_checkout(session_id)
    expired = build_event("checkout.session.expired",
                          dict(completed["data"]["object"], status="expired",
                               payment_status="unpaid", payment_intent=None))

    first = await apply(uow_factory, expired)
    second = await apply(uow_factory, completed)

    assert first.actions == ()
    assert second.actions == (Provision(booking_id),)
    assert (await booking_row(uow_factory, booking_id)).status == "confirmed"
    assert (await payment_row(uow_factory, booking_id)).status == "paid"
    assert [h[1:] for h in await history(uow_factory, booking_id)][-2:] == [
        ("expired", "the checkout expired unpaid"),
        ("confirmed", "paid after the hold ran out")]


async def test_late_payment_for_a_free_time_confirms(uow_factory, gateway, fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    event = fake_stripe.complete_checkout(session_id)

    outcome = await apply(uow_factory, event, now=AFTER_HOLD)

    assert outcome.actions == (Provision(booking_id),)
    assert (await booking_row(uow_factory, booking_id)).status == "confirmed"


async def test_late_payment_for_a_taken_time_is_refunded_in_full(uow_factory, gateway,
                                                                 fake_stripe):
    seeded, booking_id, session_id = await checkout(uow_factory, gateway)
    event = fake_stripe.complete_checkout(session_id)  # paid just before the hold ran out
    # ... but the webhook is late: the hold ran out and someone else booked the time.
    other = await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
                       now=AFTER_HOLD)
    assert other.status == "confirmed"

    outcome = await apply(uow_factory, event, now=AFTER_HOLD)

    [send] = outcome.actions
    assert isinstance(send, SendRefund)
    assert (await booking_row(uow_factory, booking_id)).status == "expired"
    payment = await payment_row(uow_factory, booking_id)
    assert payment.status == "paid"
    [refund] = await refund_rows(uow_factory, booking_id)
    assert (refund.amount_minor, refund.status, refund.idempotency_key) == (
        2500, "pending", f"booking:{booking_id}:refund:1")

    result = await send_refund(uow_factory, gateway, send.refund_id, now=AFTER_HOLD)

    request = fake_stripe.last("POST", "/v1/refunds")
    assert request.idempotency_key == f"booking:{booking_id}:refund:1"
    assert request.params == {
        "payment_intent": payment.payment_intent_id, "amount": "2500",
        "reason": "requested_by_customer",
        "metadata": {"source": "coachbot", "booking_id": str(booking_id),
                     "refund_key": f"booking:{booking_id}:refund:1"}}
    assert result.sent and result.status == "succeeded"
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"
    [notice] = result.actions
    assert isinstance(notice, NotifyStudent) and notice.user_id == STUDENT
    assert "someone else had booked it" in notice.text
    assert "We refunded the full $25.00" in notice.text
    assert "nearest free times" in notice.text
    assert f"<t:{int((TUE_10 + timedelta(hours=1)).timestamp())}:F>" in notice.text


async def test_a_replayed_late_payment_never_refunds_twice(uow_factory, gateway, fake_stripe):
    seeded, booking_id, session_id = await checkout(uow_factory, gateway)
    event = fake_stripe.complete_checkout(session_id)
    await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
               now=AFTER_HOLD)
    first = await apply(uow_factory, event, now=AFTER_HOLD)
    resent = build_event(event["type"], event["data"]["object"])  # same fact, new event id

    second = await apply(uow_factory, resent, now=AFTER_HOLD)
    for action in first.actions + second.actions:
        if isinstance(action, SendRefund):
            await send_refund(uow_factory, gateway, action.refund_id, now=AFTER_HOLD)
            await send_refund(uow_factory, gateway, action.refund_id, now=AFTER_HOLD)

    assert len(await refund_rows(uow_factory, booking_id)) == 1
    assert len(fake_stripe.refunds) == 1
    assert len(fake_stripe.calls("POST", "/v1/refunds")) == 1


async def test_promotion_code_discount_is_the_amount_paid(uow_factory, gateway, fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway,
                                               allow_promotion_codes=True)
    await apply(uow_factory, fake_stripe.complete_checkout(session_id, discount_minor=500))
    payment = await payment_row(uow_factory, booking_id)
    assert (payment.status, payment.amount_minor) == ("paid", 2000)


async def test_a_fully_discounted_checkout_confirms_without_payment(uow_factory, gateway,
                                                                   fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway,
                                               allow_promotion_codes=True)
    outcome = await apply(uow_factory,
                          fake_stripe.complete_checkout(session_id, discount_minor=2500))
    assert outcome.actions == (Provision(booking_id),)
    payment = await payment_row(uow_factory, booking_id)
    assert (payment.status, payment.amount_minor) == ("paid", 0)


async def test_a_completed_session_missing_its_row_is_recorded_from_the_event(
        uow_factory, gateway, fake_stripe):
    """The process stopped after Stripe opened the session, before the row was written."""
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    async with uow_factory() as uow:
        payment = await uow.payments.for_booking(booking_id)
        await uow.session.delete(payment)
        await uow.commit()

    outcome = await apply(uow_factory, fake_stripe.complete_checkout(session_id))

    assert outcome.actions == (Provision(booking_id),)
    payment = await payment_row(uow_factory, booking_id)
    assert (payment.checkout_session_id, payment.status, payment.amount_minor,
            payment.currency) == (session_id, "paid", 2500, "USD")


async def test_events_that_are_not_coachbots_are_ignored(uow_factory, gateway, fake_stripe):
    await checkout(uow_factory, gateway)
    foreign = {"id": "cs_test_foreign", "object": "checkout.session", "status": "complete",
               "payment_status": "paid", "client_reference_id": None, "metadata": {}}
    unknown_booking = dict(foreign, id="cs_test_other", client_reference_id="987654")

    results = [await apply(uow_factory, build_event("checkout.session.completed", obj))
               for obj in (foreign, unknown_booking)]
    other_type = await apply(uow_factory, build_event("customer.created",
                                                      {"id": "cus_1", "object": "customer"}))

    assert [r.status for r in results] == [IGNORED, IGNORED]
    assert other_type.status == IGNORED
    async with uow_factory() as uow:
        recorded = await uow.session.scalar(select(func.count()).select_from(
            ProcessedWebhookEvent))
    assert recorded == 2, "ignored Coachbot event types are recorded; foreign types are not"


async def test_a_slow_automatic_refund_is_announced_then_confirmed(uow_factory, gateway,
                                                                  fake_stripe):
    seeded, _, session_id = await checkout(uow_factory, gateway)
    event = fake_stripe.complete_checkout(session_id)
    await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
               now=AFTER_HOLD)
    fake_stripe.refund_status = "pending"
    [send] = (await apply(uow_factory, event, now=AFTER_HOLD)).actions

    sent = await send_refund(uow_factory, gateway, send.refund_id, now=AFTER_HOLD)
    settled = await apply(uow_factory, fake_stripe.settle_refund(
        fake_stripe.last("POST", "/v1/refunds").response["id"]), now=AFTER_HOLD)

    [first] = sent.actions
    assert "someone else had booked it" in first.text and "is on its way" in first.text
    assert "nearest free times" in first.text
    [second] = settled.actions
    assert second.text.startswith("Your refund of $25.00") and "is complete" in second.text
    assert "nearest free times" not in second.text


async def test_a_discount_lowers_the_fee_of_money_the_server_keeps(uow_factory, gateway,
                                                                  fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway, fee_percent=20,
                                               allow_promotion_codes=True)
    assert (await payment_row(uow_factory, booking_id)).platform_fee_minor == 500
    await apply(uow_factory, fake_stripe.complete_checkout(session_id, discount_minor=1000))
    payment = await payment_row(uow_factory, booking_id)
    assert (payment.amount_minor, payment.platform_fee_minor) == (1500, 300)
