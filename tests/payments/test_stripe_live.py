"""The same adapter against Stripe's real test mode (needs the internet and STRIPE_TEST_KEY,
a `sk_test_...` key; skipped otherwise). Run: STRIPE_TEST_KEY=sk_test_... pytest -m stripe_live
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from payments.stripe_gateway import StripeGateway
from scheduling.payments import CheckoutRequest, LineItem, PaymentRejected, RefundRequest

KEY = os.environ.get("STRIPE_TEST_KEY", "")

pytestmark = [
    pytest.mark.stripe_live,
    pytest.mark.skipif(not KEY.startswith(("sk_test_", "rk_test_")),
                       reason="STRIPE_TEST_KEY (a Stripe test-mode key) is not set"),
]


@pytest.fixture
async def live() -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway.connect(KEY, max_network_retries=1)
    try:
        yield gateway
    finally:
        await gateway.aclose()


def request(run: str, **changes) -> CheckoutRequest:
    values = {
        "booking_id": 1, "currency": "USD",
        "line_items": (LineItem("Coachbot live test", 2500, description="Booking #1"),
                       LineItem("Session recording", 500)),
        "expires_at": datetime.now(UTC) + timedelta(minutes=45),
        "success_url": "https://example.com/checkout/success?booking=1",
        "cancel_url": "https://example.com/checkout/cancel?booking=1",
        "idempotency_key": f"coachbot-live:{run}:checkout",
        "metadata": {"source": "coachbot-live-test", "booking_id": "1"},
        "allow_promotion_codes": True,
    }
    values.update(changes)
    return CheckoutRequest(**values)


async def test_checkout_session_lifecycle(live):
    run = uuid.uuid4().hex
    created = await live.create_checkout(request(run))
    assert created.status == "open" and created.url
    assert created.amount_total == 3000 and created.booking_id == 1

    again = await live.create_checkout(request(run))
    assert again.session_id == created.session_id  # same key, same parameters

    with pytest.raises(PaymentRejected):  # same key, other parameters
        await live.create_checkout(request(run, metadata={"booking_id": "2"}))

    fetched = await live.get_checkout(created.session_id)
    assert fetched.status == "open"
    expired = await live.expire_checkout(created.session_id)
    assert expired.status == "expired"
    assert (await live.expire_checkout(created.session_id)).status == "expired"


async def test_expires_at_outside_stripes_range_is_refused(live):
    with pytest.raises(PaymentRejected, match=r"expires_at|30 minutes"):
        await live.create_checkout(request(uuid.uuid4().hex,
                                           expires_at=datetime.now(UTC) + timedelta(minutes=5)))


async def test_partial_refund_of_a_test_payment(live):
    run = uuid.uuid4().hex
    intent = await live.client.v1.payment_intents.create_async(params={
        "amount": 2500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        "metadata": {"source": "coachbot-live-test"}})
    key = f"coachbot-live:{run}:refund:1"
    refund = await live.create_refund(RefundRequest(intent.id, 1000, key,
                                                    metadata={"refund_key": key}))
    assert refund.status in ("succeeded", "pending") and refund.amount_minor == 1000
    assert (await live.create_refund(RefundRequest(intent.id, 1000, key,
                                                   metadata={"refund_key": key}))) == refund
    assert (await live.find_refund(intent.id, key)).refund_id == refund.refund_id
    assert (await live.get_refund(refund.refund_id)).refund_id == refund.refund_id

