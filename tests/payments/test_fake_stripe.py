"""The fake Stripe server refuses what Stripe refuses, keeps idempotency keys like Stripe,
records requests, and signs events that the real `stripe` library verifies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import stripe

from tests.fake_stripe import FAKE_API_KEY, FakeStripe, signature, signed_delivery

SECRET = "whsec_test"


def session_params(fake: FakeStripe, **overrides) -> dict:
    params = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": 2500,
            "product_data": {"name": "Mock interview"}}}],
        "success_url": "https://example.com/ok",
        "cancel_url": "https://example.com/cancel",
        "expires_at": fake.now() + 3600,
        "client_reference_id": "12",
        "metadata": {"booking_id": "12"},
    }
    params.update(overrides)
    return params


async def create(client: stripe.StripeClient, params: dict, **options):
    return await client.v1.checkout.sessions.create_async(params=params, options=options)


async def refused(client, params, **options) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as info:
        await create(client, params, **options)
    return info.value


async def test_a_valid_session_is_created_and_recorded(stripe_client, fake_stripe):
    session = await create(stripe_client, session_params(fake_stripe),
                           idempotency_key="k-1")
    assert session.status == "open" and session.amount_total == 2500
    assert session.url.startswith("https://checkout.stripe.com/")
    recorded = fake_stripe.last("POST", "/v1/checkout/sessions")
    assert recorded.idempotency_key == "k-1"
    assert recorded.params["line_items"][0]["price_data"]["unit_amount"] == "2500"
    assert recorded.headers["Authorization"] == f"Bearer {FAKE_API_KEY}"
    assert recorded.status == 200 and recorded.response["id"] == session.id


@pytest.mark.parametrize("offset, words", [
    (timedelta(minutes=29, seconds=59), "at least 30 minutes"),
    (timedelta(hours=24, seconds=1), "less than 24 hours"),
])
async def test_expires_at_must_be_30_minutes_to_24_hours_away(stripe_client, fake_stripe,
                                                              offset, words):
    at = fake_stripe.now() + int(offset.total_seconds())
    error = await refused(stripe_client, session_params(fake_stripe, expires_at=at))
    assert error.param == "expires_at" and words in error.user_message


async def test_expires_at_follows_the_fake_clock(stripe_client, fake_stripe, clock):
    clock.advance(hours=5)
    await create(stripe_client, session_params(fake_stripe))  # built from the moved clock
    assert fake_stripe.last("POST", "/v1/checkout/sessions").status == 200


@pytest.mark.parametrize("change, param", [
    ({"unit_amount": -5}, "line_items[0][price_data][unit_amount]"),
    ({"unit_amount": "12.5"}, "line_items[0][price_data][unit_amount]"),
    ({"currency": "usdollar"}, "line_items[0][price_data][currency]"),
    ({"currency": "xyz"}, "line_items[0][price_data][currency]"),
])
async def test_amounts_and_currencies_are_checked(stripe_client, fake_stripe, change, param):
    params = session_params(fake_stripe)
    params["line_items"][0]["price_data"].update(change)
    assert (await refused(stripe_client, params)).param == param


async def test_line_items_are_required_and_checked(stripe_client, fake_stripe):
    error = await refused(stripe_client, session_params(fake_stripe, line_items=None))
    assert error.param == "line_items"
    params = session_params(fake_stripe)
    params["line_items"][0]["quantity"] = 0
    assert (await refused(stripe_client, params)).param == "line_items[0][quantity]"
    params = session_params(fake_stripe)
    del params["line_items"][0]["price_data"]["product_data"]
    error = await refused(stripe_client, params)
    assert error.param == "line_items[0][price_data][product_data][name]"
    params = session_params(fake_stripe)
    params["line_items"].append({"quantity": 1, "price_data": {
        "currency": "eur", "unit_amount": 100, "product_data": {"name": "x"}}})
    assert "same currency" in (await refused(stripe_client, params)).user_message


async def test_totals_below_stripes_minimum_are_refused(stripe_client, fake_stripe):
    params = session_params(fake_stripe)
    params["line_items"][0]["price_data"]["unit_amount"] = 49
    assert (await refused(stripe_client, params)).code == "amount_too_small"


async def test_unknown_parameters_are_refused(stripe_client, fake_stripe):
    error = await refused(stripe_client, session_params(fake_stripe, colour="blue"))
    assert (error.code, error.param) == ("parameter_unknown", "colour")
    error = await refused(stripe_client, session_params(
        fake_stripe, payment_intent_data={"tip": 5}))
    assert error.param == "payment_intent_data[tip]"


@pytest.mark.parametrize("metadata, words", [
    ({f"k{i}": "v" for i in range(51)}, "50 keys"),
    ({"k" * 41: "v"}, "40 characters"),
    ({"note": "v" * 501}, "500 characters"),
])
async def test_metadata_limits(stripe_client, fake_stripe, metadata, words):
    error = await refused(stripe_client, session_params(fake_stripe, metadata=metadata))
    assert words in error.user_message


async def test_destination_charges_are_checked(stripe_client, fake_stripe):
    error = await refused(stripe_client, session_params(fake_stripe, payment_intent_data={
        "application_fee_amount": 100}))
    assert "destination" in error.user_message
    error = await refused(stripe_client, session_params(fake_stripe, payment_intent_data={
        "transfer_data": {"destination": "acct_nobody"}}))
    assert error.code == "resource_missing"
    account = fake_stripe.add_account()
    error = await refused(stripe_client, session_params(fake_stripe, payment_intent_data={
        "application_fee_amount": 2501, "transfer_data": {"destination": account}}))
    assert "cannot exceed" in error.user_message
    session = await create(stripe_client, session_params(fake_stripe, payment_intent_data={
        "application_fee_amount": 250, "transfer_data": {"destination": account}}))
    assert session.status == "open"


async def test_the_same_key_and_parameters_replay_the_first_response(stripe_client,
                                                                    fake_stripe):
    params = session_params(fake_stripe)
    first = await create(stripe_client, params, idempotency_key="booking:1:checkout")
    second = await create(stripe_client, params, idempotency_key="booking:1:checkout")
    assert first.id == second.id
    assert len(fake_stripe.sessions) == 1


async def test_the_same_key_with_other_parameters_is_an_idempotency_error(stripe_client,
                                                                         fake_stripe):
    await create(stripe_client, session_params(fake_stripe),
                 idempotency_key="booking:1:checkout")
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        await create(stripe_client, session_params(fake_stripe, client_reference_id="13"),
                     idempotency_key="booking:1:checkout")
    # Keys are per connected account, like Stripe's.
    account = fake_stripe.add_account()
    await create(stripe_client, session_params(fake_stripe, client_reference_id="13"),
                 idempotency_key="booking:1:checkout", stripe_account=account)
    assert fake_stripe.last("POST", "/v1/checkout/sessions").stripe_account == account


async def test_a_refused_request_does_not_keep_its_key(stripe_client, fake_stripe):
    await refused(stripe_client, session_params(fake_stripe, expires_at=fake_stripe.now()),
                  idempotency_key="k-2")
    session = await create(stripe_client, session_params(fake_stripe), idempotency_key="k-2")
    assert session.status == "open"


async def test_an_unknown_api_key_is_refused(fake_stripe):
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient("sk_live_wrong", base_addresses=fake_stripe.base_addresses,
                                 http_client=http, max_network_retries=0)
    try:
        with pytest.raises(stripe.AuthenticationError):
            await client.v1.checkout.sessions.retrieve_async("cs_test_1")
    finally:
        await http.close_async()


async def test_sessions_expire_only_while_open(stripe_client, fake_stripe, clock):
    session = await create(stripe_client, session_params(fake_stripe))
    fake_stripe.complete_checkout(session.id)
    with pytest.raises(stripe.InvalidRequestError, match="open"):
        await stripe_client.v1.checkout.sessions.expire_async(session.id)
    other = await create(stripe_client, session_params(fake_stripe, client_reference_id="2"))
    clock.advance(hours=2)  # past its expires_at: Stripe expires it on its own
    fetched = await stripe_client.v1.checkout.sessions.retrieve_async(other.id)
    assert fetched.status == "expired"


async def test_refunds_are_checked_against_the_charge(stripe_client, fake_stripe):
    session = await create(stripe_client, session_params(fake_stripe))
    event = fake_stripe.complete_checkout(session.id)
    intent = event["data"]["object"]["payment_intent"]
    refunds = stripe_client.v1.refunds
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
        await refunds.create_async(params={"payment_intent": intent, "amount": 2501})
    with pytest.raises(stripe.InvalidRequestError, match="no destination"):
        await refunds.create_async(params={"payment_intent": intent, "amount": 100,
                                           "reverse_transfer": True})
    await refunds.create_async(params={"payment_intent": intent, "amount": 2000})
    rest = await refunds.create_async(params={"payment_intent": intent})
    assert rest.amount == 500
    with pytest.raises(stripe.InvalidRequestError) as info:
        await refunds.create_async(params={"payment_intent": intent, "amount": 1})
    assert info.value.code == "charge_already_refunded"
    listed = await refunds.list_async(params={"payment_intent": intent})
    assert sorted(r.amount for r in listed.data) == [500, 2000]


async def test_outages_answer_like_stripe(stripe_client, fake_stripe):
    fake_stripe.outage = 500
    with pytest.raises(stripe.APIError):
        await stripe_client.v1.refunds.retrieve_async("re_1")
    fake_stripe.outage = 429
    with pytest.raises(stripe.RateLimitError):
        await stripe_client.v1.refunds.retrieve_async("re_1")


async def test_events_are_signed_like_stripe_signs_them(stripe_client, fake_stripe):
    session = await create(stripe_client, session_params(fake_stripe))
    event = fake_stripe.complete_checkout(session.id)
    body, headers = signed_delivery(event, SECRET)

    verified = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)

    assert verified.id == event["id"] and verified.type == "checkout.session.completed"
    assert verified.data.object.payment_status == "paid"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")
    stale = signature(body, SECRET, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, stale, SECRET)
