"""Holds that run out without any webhook: the Checkout Session is expired at Stripe and the
slot freed; a session Stripe reports as paid is settled instead (no payment is ever lost);
Stripe being down never keeps a slot blocked."""

from __future__ import annotations

from datetime import timedelta

import stripe

from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from scheduling.booking import BookingRequest, book
from scheduling.payments import (
    Provision,
    SendRefund,
    expire_due_holds,
    handle_event,
    run_payment_maintenance,
    start_checkout,
)
from tests.fake_stripe import FAKE_API_KEY
from tests.payments.helpers import (
    NOW,
    OTHER_STUDENT,
    PUBLIC_URL,
    TUE_10,
    booking_row,
    hold,
    payment_row,
    refund_rows,
    seed,
)

EXPIRE = ("POST", "/v1/checkout/sessions/{id}/expire")
AFTER_HOLD = NOW + timedelta(minutes=40)


async def checkout(uow_factory, gateway):
    seeded = await seed(uow_factory)
    booking_id = await hold(uow_factory, seeded)
    started = await start_checkout(uow_factory, gateway, booking_id, now=NOW,
                                   public_url=PUBLIC_URL)
    return seeded, booking_id, started.session_id


async def test_a_due_hold_is_expired_at_stripe_and_released(uow_factory, gateway, fake_stripe,
                                                           clock):
    _, booking_id, session_id = await checkout(uow_factory, gateway)

    assert await expire_due_holds(uow_factory, gateway, now=NOW + timedelta(minutes=10)) == []
    [outcome] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)

    assert (outcome.booking_id, outcome.result, outcome.actions) == (booking_id, "released", ())
    assert fake_stripe.last(*EXPIRE).path == f"/v1/checkout/sessions/{session_id}/expire"
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert (await booking_row(uow_factory, booking_id)).status == "expired"
    assert (await payment_row(uow_factory, booking_id)).status == "expired"
    assert await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD) == []
    # The expired event Stripe sends afterwards changes nothing.
    event = fake_stripe._event("checkout.session.expired", fake_stripe.sessions[session_id])
    outcome = await handle_event(uow_factory, event_from_dict(event), now=AFTER_HOLD)
    assert outcome.actions == ()


async def test_a_paid_session_without_its_webhook_confirms(uow_factory, gateway, fake_stripe):
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    completed = fake_stripe.complete_checkout(session_id)  # the webhook never arrives

    [outcome] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)

    assert (outcome.result, outcome.actions) == ("paid", (Provision(booking_id),))
    assert (await booking_row(uow_factory, booking_id)).status == "confirmed"
    assert (await payment_row(uow_factory, booking_id)).status == "paid"
    # When the webhook does arrive, it changes nothing.
    late = await handle_event(uow_factory, event_from_dict(completed), now=AFTER_HOLD)
    assert late.actions == ()


async def test_a_paid_session_for_a_taken_time_is_refunded(uow_factory, gateway, fake_stripe):
    seeded, booking_id, session_id = await checkout(uow_factory, gateway)
    fake_stripe.complete_checkout(session_id)
    await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
               now=AFTER_HOLD)  # releases the stale hold and takes the time

    report = await run_payment_maintenance(uow_factory, gateway, now=AFTER_HOLD)

    [outcome] = report.holds
    assert outcome.result == "paid"
    assert [type(a) for a in outcome.actions] == [SendRefund]
    # The same pass sends the refund row it made (and a SendRefund finds it sent already).
    [result] = report.refunds
    assert (result.status, result.sent) == ("succeeded", True)
    assert "someone else had booked it" in result.actions[0].text
    [row] = await refund_rows(uow_factory, booking_id)
    assert (row.amount_minor, row.status) == (2500, "succeeded")
    assert len(fake_stripe.refunds) == 1


async def test_stripe_down_never_keeps_the_slot(uow_factory, gateway, fake_stripe):
    seeded, booking_id, session_id = await checkout(uow_factory, gateway)
    fake_stripe.outage = 503

    [outcome] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)

    assert outcome.result == "retry"
    assert (await booking_row(uow_factory, booking_id)).status == "expired"
    assert (await payment_row(uow_factory, booking_id)).status == "pending"
    other = await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
                       now=AFTER_HOLD)
    assert other.status == "confirmed"

    fake_stripe.outage = None
    [again] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)
    assert again.result == "released"
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert (await payment_row(uow_factory, booking_id)).status == "expired"
    assert await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD) == []


async def test_stripe_unreachable_releases_too(uow_factory, gateway, fake_stripe):
    _, booking_id, _ = await checkout(uow_factory, gateway)
    http = stripe.AIOHTTPClient(timeout=5)
    down = StripeGateway(stripe.StripeClient(FAKE_API_KEY,
                                             base_addresses={"api": "http://127.0.0.1:9"},
                                             http_client=http, max_network_retries=0))
    try:
        [outcome] = await expire_due_holds(uow_factory, down, now=AFTER_HOLD)
    finally:
        await http.close_async()
    assert outcome.result == "retry"
    assert (await booking_row(uow_factory, booking_id)).status == "expired"


async def test_a_delayed_payment_in_progress_is_left_to_its_webhook(uow_factory, gateway,
                                                                    fake_stripe):
    """Decision: the slot is freed when the hold runs out even while a delayed payment method
    processes; if that payment succeeds later it confirms if still free, or is refunded."""
    _, booking_id, session_id = await checkout(uow_factory, gateway)
    fake_stripe.complete_checkout(session_id, delayed=True)  # completed (unpaid), no webhook

    [outcome] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)

    assert outcome.result == "waiting"
    assert (await booking_row(uow_factory, booking_id)).status == "expired"
    payment = await payment_row(uow_factory, booking_id)
    assert payment.status == "pending" and payment.payment_intent_id is not None
    assert await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD) == []

    succeeded = fake_stripe.settle_delayed_payment(session_id)
    confirmed = await handle_event(uow_factory, event_from_dict(succeeded), now=AFTER_HOLD)
    assert confirmed.actions == (Provision(booking_id),)


async def test_a_hold_released_by_someone_elses_booking_still_expires_its_session(
        uow_factory, gateway, fake_stripe):
    seeded, booking_id, session_id = await checkout(uow_factory, gateway)
    await book(uow_factory, BookingRequest(seeded.offering_id, OTHER_STUDENT,
                                           TUE_10 + timedelta(hours=2)), now=AFTER_HOLD)
    assert (await booking_row(uow_factory, booking_id)).status == "expired"

    [outcome] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)

    assert outcome.result == "released"
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert (await payment_row(uow_factory, booking_id)).status == "expired"


async def test_a_hold_without_a_checkout_is_released(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory)
    booking_id = await hold(uow_factory, seeded)  # the process stopped before Stripe

    [outcome] = await expire_due_holds(uow_factory, gateway, now=AFTER_HOLD)

    assert outcome.result == "released"
    assert fake_stripe.requests == []
    assert (await booking_row(uow_factory, booking_id)).status == "expired"
