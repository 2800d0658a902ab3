"""Refunds: the amount from the cancellation policy, the exact Stripe parameters (partial,
destination charges, one idempotency key per refund), status tracked until it is final from
webhooks or by asking Stripe, the student told either way, and no refund ever sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payments.objects import event_from_dict
from scheduling.errors import InvalidInput
from scheduling.payments import (
    REFUND_UNAVAILABLE,
    NotifyStudent,
    handle_event,
    refund_booking,
    retry_refunds,
    start_checkout,
)
from scheduling.policy import make_policy
from tests.payments.helpers import (
    NOW,
    PUBLIC_URL,
    STUDENT,
    hold,
    payment_row,
    refund_rows,
    seed,
)

REFUNDS = ("POST", "/v1/refunds")
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def uow_factory(sqlite_uow_factory):
    """SQLite only: these tests are about what Stripe receives."""
    return sqlite_uow_factory


async def paid(uow_factory, gateway, fake_stripe, **seed_fields) -> int:
    seeded = await seed(uow_factory, **seed_fields)
    booking_id = await hold(uow_factory, seeded)
    started = await start_checkout(uow_factory, gateway, booking_id, now=NOW,
                                   public_url=PUBLIC_URL)
    event = fake_stripe.complete_checkout(started.session_id)
    await handle_event(uow_factory, event_from_dict(event), now=LATER)
    return booking_id


async def apply(uow_factory, fake_event, now=LATER):
    return await handle_event(uow_factory, event_from_dict(fake_event), now=now)


async def test_policy_refund_sends_the_partial_amount_with_its_own_key(uow_factory, gateway,
                                                                      fake_stripe):
    policy = make_policy([(48, 100), (12, 50)]).to_dict()
    booking_id = await paid(uow_factory, gateway, fake_stripe, policy=policy)

    # Tuesday 10:00, cancelled Monday 09:05: 25 hours' notice -> the 50 % tier.
    result = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="cancelled by the student")

    request = fake_stripe.last(*REFUNDS)
    payment = await payment_row(uow_factory, booking_id)
    assert request.idempotency_key == f"booking:{booking_id}:refund:1"
    assert request.params == {
        "payment_intent": payment.payment_intent_id, "amount": "1250",
        "reason": "requested_by_customer",
        "metadata": {"source": "coachbot", "booking_id": str(booking_id),
                     "refund_key": f"booking:{booking_id}:refund:1"}}
    assert (result.amount.minor, result.status, result.sent) == (1250, "succeeded", True)
    assert payment.status == "partially_refunded"
    [row] = await refund_rows(uow_factory, booking_id)
    assert (row.amount_minor, row.status, row.provider_refund_id, row.reason) == (
        1250, "succeeded", request.response["id"], "cancelled by the student")
    [notice] = result.actions
    assert isinstance(notice, NotifyStudent) and notice.user_id == STUDENT
    assert "Your refund of $12.50" in notice.text and "is complete" in notice.text


async def test_the_server_policy_applies_when_the_offering_has_none(uow_factory, gateway,
                                                                   fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)  # default: 24 h -> 100 %
    result = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="cancelled")
    assert result.amount.minor == 2500
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"


async def test_no_refund_when_the_policy_gives_nothing(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    result = await refund_booking(uow_factory, gateway, booking_id,
                                  now=NOW + timedelta(hours=20), reason="late cancel")
    assert result is None
    assert fake_stripe.calls(*REFUNDS) == []
    assert await refund_rows(uow_factory, booking_id) == []


async def test_refunds_never_exceed_what_was_paid(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    first = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                 reason="goodwill", amount_minor=1000)
    second = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="coach cancelled", full=True)
    third = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                 reason="again", full=True)

    assert (first.amount.minor, second.amount.minor, third) == (1000, 1500, None)
    keys = [r.idempotency_key for r in fake_stripe.calls(*REFUNDS)]
    assert keys == [f"booking:{booking_id}:refund:1", f"booking:{booking_id}:refund:2"]
    assert [r.params["amount"] for r in fake_stripe.calls(*REFUNDS)] == ["1000", "1500"]
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"


async def test_a_refund_of_nothing_is_refused(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    with pytest.raises(InvalidInput):
        await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="x",
                             amount_minor=0)


async def test_destination_charge_refund_reverses_transfer_and_fee(uow_factory, gateway,
                                                                  fake_stripe):
    account = fake_stripe.add_account()
    booking_id = await paid(uow_factory, gateway, fake_stripe, stripe_account=account,
                            fee_percent=10, price_minor=5000)

    await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="partial",
                         amount_minor=2000)

    params = fake_stripe.last(*REFUNDS).params
    assert (params["amount"], params["reverse_transfer"], params["refund_application_fee"]) == (
        "2000", "true", "true")
    refund = fake_stripe.refunds[fake_stripe.last(*REFUNDS).response["id"]]
    assert refund["reverse_transfer"] and refund["refund_application_fee"]


async def test_a_refund_is_not_lost_while_stripe_is_down(uow_factory, gateway,
                                                                fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.outage = 503

    result = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="cancelled")

    assert (result.sent, result.status, result.message) == (False, "pending", REFUND_UNAVAILABLE)
    [row] = await refund_rows(uow_factory, booking_id)
    assert (row.status, row.provider_refund_id) == ("pending", None)

    fake_stripe.outage = None
    [retried] = await retry_refunds(uow_factory, gateway, now=LATER + timedelta(minutes=1))

    assert (retried.sent, retried.status) == (True, "succeeded")
    # It looked for an earlier attempt first, then sent it under the same key.
    assert fake_stripe.last("GET", "/v1/refunds").params["payment_intent"] == (
        (await payment_row(uow_factory, booking_id)).payment_intent_id)
    assert len(fake_stripe.refunds) == 1
    assert fake_stripe.last(*REFUNDS).idempotency_key == f"booking:{booking_id}:refund:1"
    assert [type(a) for a in retried.actions] == [NotifyStudent]
    assert await retry_refunds(uow_factory, gateway, now=LATER + timedelta(minutes=2)) == []


async def test_a_refund_stripe_made_but_never_acknowledged_is_not_made_twice(
        uow_factory, gateway, fake_stripe):
    """The response was lost (crash, timeout) and the idempotency key pruned meanwhile."""
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.outage = 503
    await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="cancelled")
    fake_stripe.outage = None
    [row] = await refund_rows(uow_factory, booking_id)
    payment = await payment_row(uow_factory, booking_id)
    # Stripe did get it (under our metadata) but we never heard back; its key is forgotten.
    lost = await gateway.client.v1.refunds.create_async(
        params={"payment_intent": payment.payment_intent_id, "amount": 2500,
                "metadata": {"refund_key": row.idempotency_key}})
    fake_stripe.idempotency.clear()

    [retried] = await retry_refunds(uow_factory, gateway, now=LATER + timedelta(days=2))

    assert len(fake_stripe.refunds) == 1
    assert (retried.status, retried.sent) == ("succeeded", True)
    [row] = await refund_rows(uow_factory, booking_id)
    assert row.provider_refund_id == lost.id


async def test_pending_refund_is_tracked_until_it_succeeds(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.refund_status = "pending"

    result = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="cancelled")

    assert (result.status, result.actions) == ("pending", ())
    assert (await payment_row(uow_factory, booking_id)).status == "paid"
    refund_id = fake_stripe.last(*REFUNDS).response["id"]

    outcome = await apply(uow_factory, fake_stripe.settle_refund(refund_id, "succeeded"))

    [notice] = outcome.actions
    assert "is complete" in notice.text
    [row] = await refund_rows(uow_factory, booking_id)
    assert row.status == "succeeded"
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"


async def test_a_failed_refund_is_reported_to_the_student(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.refund_status = "pending"
    await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="cancelled")
    refund_id = fake_stripe.last(*REFUNDS).response["id"]

    outcome = await apply(uow_factory, fake_stripe.settle_refund(
        refund_id, "failed", failure_reason="expired_or_canceled_card"))

    [notice] = outcome.actions
    assert "could not be completed" in notice.text and "contact a server admin" in notice.text
    [row] = await refund_rows(uow_factory, booking_id)
    assert row.status == "failed"
    assert (await payment_row(uow_factory, booking_id)).status == "paid"


async def test_refund_events_out_of_order_never_move_back(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.refund_status = "pending"
    await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="cancelled")
    refund_id = fake_stripe.last(*REFUNDS).response["id"]
    stale = fake_stripe.settle_refund(refund_id, "pending")  # an older snapshot
    succeeded = fake_stripe.settle_refund(refund_id, "succeeded")

    first = await apply(uow_factory, succeeded)
    second = await apply(uow_factory, stale)

    assert len(first.actions) == 1 and second.actions == ()
    [row] = await refund_rows(uow_factory, booking_id)
    assert row.status == "succeeded"


async def test_a_pending_refund_without_webhooks_is_asked_about(uow_factory, gateway,
                                                                fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.refund_status = "pending"
    await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="cancelled")
    refund_id = fake_stripe.last(*REFUNDS).response["id"]
    fake_stripe.settle_refund(refund_id, "succeeded")  # the event is never delivered
    async with uow_factory() as uow:  # the row last changed a while ago
        [row] = await uow.payments.refunds_of_booking(booking_id)
        row.updated_at = LATER
        await uow.commit()

    results = await retry_refunds(uow_factory, gateway, now=LATER + timedelta(minutes=11))

    assert fake_stripe.last("GET", "/v1/refunds/{id}").path == f"/v1/refunds/{refund_id}"
    [result] = results
    assert result.status == "succeeded" and len(result.actions) == 1
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"


async def test_a_refund_stripe_refuses_is_marked_failed(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    payment = await payment_row(uow_factory, booking_id)
    # An admin refunded everything in the Dashboard; that event has not arrived yet.
    fake_stripe.refund_in_dashboard(payment.payment_intent_id, 2500)

    result = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="cancelled")

    assert (result.status, result.sent) == ("failed", False)
    assert "refunded in full already" in result.message
    [row] = await refund_rows(uow_factory, booking_id)
    assert row.status == "failed" and "Stripe refused it" in row.reason
    [notice] = result.actions
    assert "could not be completed" in notice.text


async def test_dashboard_refunds_are_recorded(uow_factory, gateway, fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    payment = await payment_row(uow_factory, booking_id)
    created = fake_stripe.refund_in_dashboard(payment.payment_intent_id, 700)

    outcome = await apply(uow_factory, created)
    charge = await apply(uow_factory, fake_stripe.charge_refunded_event(
        payment.payment_intent_id))

    assert outcome.booking_id == booking_id and charge.booking_id == booking_id
    [row] = await refund_rows(uow_factory, booking_id)
    assert (row.amount_minor, row.status, row.idempotency_key) == (
        700, "succeeded", f"external:{created['data']['object']['id']}")
    assert (await payment_row(uow_factory, booking_id)).status == "partially_refunded"
    # Coachbot's next refund is still number 1 of its own, and only what is left.
    result = await refund_booking(uow_factory, gateway, booking_id, now=LATER,
                                  reason="cancelled", full=True)
    assert result.amount.minor == 1800
    assert fake_stripe.last(*REFUNDS).idempotency_key == f"booking:{booking_id}:refund:1"


async def test_charge_refunded_with_listed_refunds_updates_them(uow_factory, gateway,
                                                               fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    fake_stripe.refund_status = "pending"
    await refund_booking(uow_factory, gateway, booking_id, now=LATER, reason="cancelled")
    refund_id = fake_stripe.last(*REFUNDS).response["id"]
    fake_stripe.settle_refund(refund_id, "succeeded")
    payment = await payment_row(uow_factory, booking_id)

    outcome = await apply(uow_factory, fake_stripe.charge_refunded_event(
        payment.payment_intent_id, list_refunds=True))

    assert len(outcome.actions) == 1
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"


async def test_a_dashboard_refund_is_announced_to_the_student(uow_factory, gateway,
                                                             fake_stripe):
    booking_id = await paid(uow_factory, gateway, fake_stripe)
    payment = await payment_row(uow_factory, booking_id)
    outcome = await apply(uow_factory,
                          fake_stripe.refund_in_dashboard(payment.payment_intent_id, 2500))
    [notice] = outcome.actions
    assert notice.user_id == STUDENT and "Your refund of $25.00" in notice.text
    assert (await payment_row(uow_factory, booking_id)).status == "refunded"
