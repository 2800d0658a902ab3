"""The Stripe adapter: Stripe's failures as domain errors with messages fit for users, Stripe
objects and webhook deliveries reduced to the domain's states, connected accounts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.errors import CHECKOUT, REFUND, translate
from payments.objects import event_from_dict
from payments.stripe_gateway import StripeGateway
from payments.webhooks import WebhookRejected, verify_event
from scheduling.payments import (
    CHECKOUT_UNAVAILABLE,
    REFUND_UNAVAILABLE,
    CheckoutRequest,
    LineItem,
    PaymentRejected,
    PaymentsMisconfigured,
    PaymentsUnavailable,
    RefundRequest,
)
from tests.fake_stripe import FAKE_API_KEY, build_event, signature, signed_delivery

SECRET = "whsec_test"


def checkout_request(fake, **changes) -> CheckoutRequest:
    values = {
        "booking_id": 1, "currency": "USD",
        "line_items": (LineItem("Mock interview with Coach Carla", 2500),),
        "expires_at": datetime.fromtimestamp(fake.now(), UTC) + timedelta(minutes=45),
        "success_url": "https://bot.example/checkout/success",
        "cancel_url": "https://bot.example/checkout/cancel",
        "idempotency_key": "booking:1:checkout", "metadata": {"booking_id": "1"},
    }
    values.update(changes)
    return CheckoutRequest(**values)


async def test_unreachable_stripe_is_unavailable_with_the_users_message():
    http = stripe.AIOHTTPClient(timeout=5)
    gateway = StripeGateway(stripe.StripeClient(
        FAKE_API_KEY, base_addresses={"api": "http://127.0.0.1:9"}, http_client=http,
        max_network_retries=0), http)
    try:
        with pytest.raises(PaymentsUnavailable) as checkout:
            await gateway.get_checkout("cs_test_1")
        with pytest.raises(PaymentsUnavailable) as refund:
            await gateway.get_refund("re_1")
    finally:
        await gateway.aclose()
    assert checkout.value.user_message == CHECKOUT_UNAVAILABLE
    assert checkout.value.user_message == ("Payments are unreachable right now; nothing was "
                                           "charged. Try again in a minute.")
    assert refund.value.user_message == REFUND_UNAVAILABLE
    assert checkout.value.retryable


@pytest.mark.parametrize("status, error", [
    (500, PaymentsUnavailable), (503, PaymentsUnavailable), (429, PaymentsUnavailable),
])
async def test_outages_are_unavailable(gateway, fake_stripe, status, error):
    fake_stripe.outage = status
    with pytest.raises(error):
        await gateway.create_checkout(checkout_request(fake_stripe))


async def test_a_rejected_key_is_a_setup_problem(fake_stripe):
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient("sk_live_revoked", base_addresses=fake_stripe.base_addresses,
                                 http_client=http, max_network_retries=0)
    gateway = StripeGateway(client, http)
    try:
        with pytest.raises(PaymentsMisconfigured, match="STRIPE_SECRET_KEY") as info:
            await gateway.create_checkout(checkout_request(fake_stripe))
    finally:
        await gateway.aclose()
    assert "Nothing was charged" in info.value.user_message
    assert "sk_live_revoked" not in info.value.user_message


async def test_refused_parameters_are_rejected_with_stripes_reason(gateway, fake_stripe):
    with pytest.raises(PaymentRejected) as info:
        await gateway.create_checkout(checkout_request(
            fake_stripe, expires_at=datetime.fromtimestamp(fake_stripe.now(), UTC)))
    assert "at least 30 minutes" in info.value.user_message
    assert "Nothing was charged" in info.value.user_message


async def test_an_unknown_session_is_rejected(gateway):
    with pytest.raises(PaymentRejected) as info:
        await gateway.get_checkout("cs_test_missing")
    assert info.value.code == "resource_missing"


def test_translate_covers_every_stripe_error():
    cases = [
        (stripe.APIConnectionError("down"), PaymentsUnavailable),
        (stripe.RateLimitError("slow down"), PaymentsUnavailable),
        (stripe.APIError("boom", http_status=502), PaymentsUnavailable),
        (stripe.AuthenticationError("bad key"), PaymentsMisconfigured),
        (stripe.PermissionError("not allowed"), PaymentsMisconfigured),
        (stripe.IdempotencyError("other params"), PaymentRejected),
        (stripe.InvalidRequestError("bad", "amount", code="amount_too_small"), PaymentRejected),
        (stripe.CardError("declined", None, "card_declined"), PaymentRejected),
        (stripe.StripeError("odd"), PaymentRejected),
    ]
    for error, expected in cases:
        for operation in (CHECKOUT, REFUND):
            translated = translate(error, operation)
            assert isinstance(translated, expected), error
            assert translated.user_message


async def test_expiring_a_completed_session_reports_it_instead(gateway, fake_stripe):
    state = await gateway.create_checkout(checkout_request(fake_stripe))
    fake_stripe.complete_checkout(state.session_id)

    after = await gateway.expire_checkout(state.session_id)

    assert (after.status, after.payment_status, after.booking_id) == ("complete", "paid", 1)
    assert after.payment_intent_id in fake_stripe.payment_intents


async def test_expire_twice_is_harmless(gateway, fake_stripe):
    state = await gateway.create_checkout(checkout_request(fake_stripe))
    first = await gateway.expire_checkout(state.session_id)
    second = await gateway.expire_checkout(state.session_id)
    assert first.status == second.status == "expired"


async def test_refund_state_keeps_our_key(gateway, fake_stripe):
    state = await gateway.create_checkout(checkout_request(fake_stripe))
    event = fake_stripe.complete_checkout(state.session_id)
    intent = event["data"]["object"]["payment_intent"]
    refund = await gateway.create_refund(RefundRequest(
        intent, 1000, "booking:1:refund:1", metadata={"refund_key": "booking:1:refund:1"}))
    assert (refund.status, refund.amount_minor, refund.currency, refund.refund_key) == (
        "succeeded", 1000, "USD", "booking:1:refund:1")
    assert await gateway.find_refund(intent, "booking:1:refund:1") == refund
    assert await gateway.find_refund(intent, "booking:1:refund:2") is None
    assert await gateway.get_refund(refund.refund_id) == refund


async def test_connected_accounts_for_coach_payouts(gateway, fake_stripe):
    account = await gateway.create_connected_account(idempotency_key="coach:1:account",
                                                     metadata={"coach_id": "1"})
    assert fake_stripe.last("POST", "/v1/accounts").params["type"] == "express"
    assert await gateway.account_ready(account) is False
    link = await gateway.onboarding_link(account, return_url="https://bot.example/r",
                                         refresh_url="https://bot.example/f")
    assert link.startswith("https://connect.stripe.com/")
    fake_stripe.accounts[account].update(details_submitted=True,
                                         capabilities={"transfers": "active"})
    assert await gateway.account_ready(account) is True


async def test_connect_owns_and_closes_its_http_client(fake_stripe):
    gateway = StripeGateway.connect(FAKE_API_KEY, api_base=fake_stripe.base_url,
                                    max_network_retries=0)
    try:
        with pytest.raises(PaymentRejected):
            await gateway.get_refund("re_missing")
    finally:
        await gateway.aclose()


# ---------------------------------------------------------------- webhook deliveries


def test_a_verified_delivery_becomes_a_payment_event():
    session = {"id": "cs_test_1", "object": "checkout.session", "status": "complete",
               "payment_status": "paid", "client_reference_id": "42",
               "metadata": {"booking_id": "42"}, "payment_intent": "pi_1",
               "amount_total": 2500, "currency": "eur", "expires_at": 1_800_000_000}
    body, headers = signed_delivery(build_event("checkout.session.completed", session,
                                                event_id="evt_1"), SECRET)

    event = verify_event(body, headers["Stripe-Signature"], SECRET)

    assert (event.id, event.type) == ("evt_1", "checkout.session.completed")
    checkout = event.checkout
    assert (checkout.session_id, checkout.booking_id, checkout.payment_intent_id,
            checkout.amount_total, checkout.currency, checkout.paid) == (
        "cs_test_1", 42, "pi_1", 2500, "EUR", True)
    assert checkout.expires_at == datetime.fromtimestamp(1_800_000_000, UTC)


@pytest.mark.parametrize("header", [
    None, "", "t=1,v1=00", "v1=abc", "t=abc,v1=abc",
])
def test_bad_signatures_are_rejected(header):
    body, _ = signed_delivery(build_event("charge.refunded", {"id": "ch_1",
                                                               "object": "charge"}), SECRET)
    with pytest.raises(WebhookRejected):
        verify_event(body, header, SECRET)


def test_a_stale_signature_is_rejected():
    body, _ = signed_delivery(build_event("charge.refunded", {"id": "ch_1",
                                                               "object": "charge"}), SECRET)
    old = signature(body, SECRET, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify_event(body, old, SECRET)


def test_the_booking_id_comes_from_the_reference_or_the_metadata():
    def booking_of(**fields):
        obj = {"id": "cs_1", "object": "checkout.session", **fields}
        return event_from_dict(build_event("checkout.session.completed", obj)).checkout.booking_id

    assert booking_of(client_reference_id="7") == 7
    assert booking_of(client_reference_id=None, metadata={"booking_id": "8"}) == 8
    assert booking_of(client_reference_id="not-a-number", metadata={}) is None
    assert booking_of(client_reference_id="-3") is None


def test_objects_coachbot_does_not_read_are_left_empty():
    event = event_from_dict(build_event("customer.created", {"id": "cus_1",
                                                             "object": "customer"}))
    assert (event.checkout, event.refund, event.charge) == (None, None, None)
    refund = event_from_dict(build_event("refund.updated", {
        "id": "re_1", "object": "refund", "status": "succeeded", "amount": 500,
        "payment_intent": {"id": "pi_9", "object": "payment_intent"}})).refund
    assert (refund.refund_id, refund.payment_intent_id, refund.refund_key) == ("re_1", "pi_9",
                                                                               None)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)
OBJECT_KEYS = st.sampled_from(["id", "object", "status", "payment_status", "client_reference_id",
                               "metadata", "payment_intent", "amount_total", "amount",
                               "amount_refunded", "currency", "expires_at", "refunds", "data",
                               "url", "failure_reason"])


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=300), header=st.text(max_size=80) | st.none())
def test_any_unsigned_delivery_is_rejected_cleanly(body, header):
    with pytest.raises(WebhookRejected):
        verify_event(body, header, SECRET)


@settings(max_examples=200, deadline=None)
@given(event_type=st.sampled_from(["checkout.session.completed", "checkout.session.expired",
                                   "refund.updated", "charge.refunded", "customer.created"]),
       kind=st.sampled_from(["checkout.session", "refund", "charge", "customer", None]),
       fields=st.dictionaries(OBJECT_KEYS, JSON, max_size=8), top=JSON)
def test_any_signed_payload_is_an_event_or_rejected_cleanly(event_type, kind, fields, top):
    """Even a genuinely signed body of odd shape never escapes as another exception."""
    obj = {**fields, "object": kind} if kind else fields
    for payload in ({"id": "evt_1", "object": "event", "type": event_type,
                     "data": {"object": obj}}, top):
        body = json.dumps(payload).encode()
        try:
            event = verify_event(body, signature(body, SECRET), SECRET)
        except WebhookRejected:
            continue
        for state in (event.checkout, event.refund):
            if state is not None:
                assert state.payment_intent_id is None or isinstance(state.payment_intent_id,
                                                                     str)
        if event.checkout is not None and event.checkout.booking_id is not None:
            assert 0 < event.checkout.booking_id < 2**63
