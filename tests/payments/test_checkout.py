"""Opening the Checkout Session of a held booking, through the real `stripe` library against
the fake Stripe server: the exact parameters Stripe receives, add-ons and promotion codes,
destination charges, and what happens to the hold when Stripe refuses or is unreachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from sqlalchemy import text

from payments.stripe_gateway import StripeGateway
from scheduling.booking import BookingRequest
from scheduling.errors import Conflict, InvalidInput, SlotTaken
from scheduling.payments import (
    CHECKOUT_UNAVAILABLE,
    MIN_HOLD,
    PaymentRejected,
    PaymentsUnavailable,
    book_and_checkout,
    build_checkout,
    checkout_expiry,
    start_checkout,
)
from tests.fake_stripe import FAKE_API_KEY
from tests.payments.helpers import (
    NOW,
    OTHER_STUDENT,
    PUBLIC_URL,
    STUDENT,
    TUE_10,
    booking_row,
    hold,
    payment_row,
    seed,
)

CREATE = ("POST", "/v1/checkout/sessions")


@pytest.fixture
def uow_factory(sqlite_uow_factory):
    """SQLite only: these tests are about what Stripe receives."""
    return sqlite_uow_factory


async def paid_booking(uow_factory, gateway, seeded, **kwargs):
    return await book_and_checkout(uow_factory, gateway,
                                   BookingRequest(seeded.offering_id, STUDENT, TUE_10),
                                   now=NOW, hold_minutes=30, public_url=PUBLIC_URL, **kwargs)


async def test_checkout_request_carries_the_booking(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory)

    started = await paid_booking(uow_factory, gateway, seeded)

    request = fake_stripe.last(*CREATE)
    params = request.params
    booking_id = started.booking_id
    assert request.idempotency_key == f"booking:{booking_id}:checkout"
    assert request.stripe_account is None
    assert params["mode"] == "payment"
    assert params["submit_type"] == "book"
    assert params["client_reference_id"] == str(booking_id)
    assert params["line_items"] == [{
        "quantity": "1",
        "price_data": {
            "currency": "usd", "unit_amount": "2500",
            "product_data": {
                "name": "Mock interview with Coach Carla",
                "description": f"Booking #{booking_id}: 60-minute session on "
                               "Tue 24 Nov 2026, 10:00 UTC"},
        },
    }]
    assert params["metadata"]["booking_id"] == str(booking_id)
    assert params["metadata"]["source"] == "coachbot"
    assert params["payment_intent_data"]["metadata"]["booking_id"] == str(booking_id)
    assert "transfer_data" not in params["payment_intent_data"]
    assert "allow_promotion_codes" not in params
    # The hold and the session end together, at least 30 minutes (plus a margin) from now.
    expires = int(params["expires_at"])
    assert expires == int((NOW + MIN_HOLD).timestamp())
    assert params["success_url"] == (f"{PUBLIC_URL}/checkout/success?booking={booking_id}"
                                     "&session_id={CHECKOUT_SESSION_ID}")
    assert params["cancel_url"] == f"{PUBLIC_URL}/checkout/cancel?booking={booking_id}"

    session = fake_stripe.sessions[started.session_id]
    assert started.checkout_url == session["url"]
    assert int(started.expires_at.timestamp()) == expires
    assert (started.amount.minor, started.amount.currency) == (2500, "USD")
    booking = await booking_row(uow_factory, booking_id)
    assert booking.status == "pending_payment"
    assert booking.expires_at == started.expires_at
    payment = await payment_row(uow_factory, booking_id)
    assert (payment.status, payment.checkout_session_id, payment.amount_minor,
            payment.currency, payment.platform_fee_minor, payment.destination_account) == (
        "pending", started.session_id, 2500, "USD", 0, None)


async def test_a_held_slot_is_busy_for_everyone_else(uow_factory, gateway):
    seeded = await seed(uow_factory)
    await paid_booking(uow_factory, gateway, seeded)
    with pytest.raises(SlotTaken):
        await book_and_checkout(uow_factory, gateway,
                                BookingRequest(seeded.offering_id, OTHER_STUDENT, TUE_10),
                                now=NOW + timedelta(minutes=5), hold_minutes=30,
                                public_url=PUBLIC_URL)


async def test_add_ons_are_line_items_of_their_own(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory, addons=(("Session recording", 900, 0),
                                             ("Written feedback", 1500, 0),
                                             ("Follow-up email", 300, 0)))
    recording, _feedback, email = seeded.addon_ids

    started = await paid_booking(uow_factory, gateway, seeded, addon_ids=(email, recording))

    items = fake_stripe.last(*CREATE).params["line_items"]
    assert [(i["price_data"]["product_data"]["name"], i["price_data"]["unit_amount"])
            for i in items] == [("Mock interview with Coach Carla", "2500"),
                                ("Session recording", "900"), ("Follow-up email", "300")]
    metadata = fake_stripe.last(*CREATE).params["metadata"]
    assert metadata["addon_ids"] == f"{recording},{email}"
    assert started.amount.minor == 3700
    assert (await payment_row(uow_factory, started.booking_id)).amount_minor == 3700
    assert fake_stripe.sessions[started.session_id]["amount_total"] == 3700


async def test_an_unknown_add_on_is_refused_and_the_hold_released(uow_factory, gateway,
                                                                  fake_stripe):
    seeded = await seed(uow_factory, addons=(("Session recording", 900, 0),))
    with pytest.raises(InvalidInput, match="not offered"):
        await paid_booking(uow_factory, gateway, seeded, addon_ids=(999_999,))
    assert fake_stripe.calls(*CREATE) == []
    async with uow_factory() as uow:
        booking = (await uow.bookings.overlapping_active(seeded.coach_id, TUE_10,
                                                         TUE_10 + timedelta(hours=1)))
    assert booking == [], "the hold was released"


async def test_an_add_on_with_extra_minutes_holds_the_longer_session(uow_factory, gateway,
                                                                    fake_stripe):
    seeded = await seed(uow_factory, addons=(("Extra 30 minutes", 1200, 30),))
    started = await paid_booking(uow_factory, gateway, seeded, addon_ids=seeded.addon_ids)
    async with uow_factory() as uow:
        held = await uow.bookings.get(started.booking_id)
    assert held.end_at - held.start_at == timedelta(minutes=90)
    assert fake_stripe.last(*CREATE).params["line_items"][1]["price_data"]["unit_amount"] == (
        "1200")


async def test_promotion_codes_are_allowed_per_offering(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory, allow_promotion_codes=True)
    await paid_booking(uow_factory, gateway, seeded)
    assert fake_stripe.last(*CREATE).params["allow_promotion_codes"] == "true"


async def test_destination_charge_for_a_coach_with_a_connected_account(uow_factory, gateway,
                                                                       fake_stripe):
    account = fake_stripe.add_account()
    seeded = await seed(uow_factory, price_minor=4999, stripe_account=account, fee_percent=15,
                        addons=(("Session recording", 1001, 0),))

    started = await paid_booking(uow_factory, gateway, seeded, addon_ids=seeded.addon_ids)

    intent = fake_stripe.last(*CREATE).params["payment_intent_data"]
    # 15 % of 60.00 = 9.00 exactly; integer maths rounds down.
    assert intent["application_fee_amount"] == str(6000 * 15 // 100) == "900"
    assert intent["transfer_data"] == {"destination": account}
    assert fake_stripe.last(*CREATE).params["metadata"]["destination"] == account
    payment = await payment_row(uow_factory, started.booking_id)
    assert (payment.platform_fee_minor, payment.destination_account) == (900, account)


async def test_fee_rounds_down_and_is_kept_without_a_connected_account(uow_factory, gateway,
                                                                       fake_stripe):
    seeded = await seed(uow_factory, price_minor=1999, fee_percent=10)
    started = await paid_booking(uow_factory, gateway, seeded)
    intent = fake_stripe.last(*CREATE).params["payment_intent_data"]
    assert "application_fee_amount" not in intent and "transfer_data" not in intent
    payment = await payment_row(uow_factory, started.booking_id)
    assert (payment.platform_fee_minor, payment.destination_account) == (199, None)


async def test_a_zero_decimal_currency_is_sent_in_whole_units(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory, price_minor=3000, currency="JPY")
    await paid_booking(uow_factory, gateway, seeded)
    price = fake_stripe.last(*CREATE).params["line_items"][0]["price_data"]
    assert (price["currency"], price["unit_amount"]) == ("jpy", "3000")


async def test_a_free_session_never_reaches_stripe(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory, price_minor=0)
    with pytest.raises(InvalidInput, match="nothing to pay"):
        await paid_booking(uow_factory, gateway, seeded)
    assert fake_stripe.requests == []


async def test_stripe_unreachable_is_a_clear_error_and_frees_the_slot(uow_factory, clock):
    """Decision: a checkout that cannot be opened releases its hold at once (the student can
    retry straight away and nobody else is blocked); nothing was charged."""
    seeded = await seed(uow_factory)
    http = stripe.AIOHTTPClient(timeout=5)
    down = StripeGateway(stripe.StripeClient(
        FAKE_API_KEY, base_addresses={"api": "http://127.0.0.1:9"}, http_client=http,
        max_network_retries=0))
    try:
        with pytest.raises(PaymentsUnavailable) as info:
            await book_and_checkout(uow_factory, down,
                                    BookingRequest(seeded.offering_id, STUDENT, TUE_10),
                                    now=NOW, hold_minutes=30, public_url=PUBLIC_URL)
    finally:
        await http.close_async()
    assert info.value.user_message == CHECKOUT_UNAVAILABLE
    async with uow_factory() as uow:
        assert await uow.bookings.overlapping_active(
            seeded.coach_id, TUE_10, TUE_10 + timedelta(hours=1)) == []
        history = await uow.session.execute(
            text("SELECT to_status, reason FROM booking_status_history ORDER BY id"))
        assert [tuple(r) for r in history] == [
            ("pending_payment", "booked"),
            ("expired", "the payment page could not be opened")]


async def test_a_stripe_outage_is_unavailable_too(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory)
    fake_stripe.outage = 503
    with pytest.raises(PaymentsUnavailable, match="nothing was charged"):
        await paid_booking(uow_factory, gateway, seeded)


async def test_stripe_refusing_the_amount_is_explained(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory, price_minor=20)  # below Stripe's 0.50 USD minimum
    with pytest.raises(PaymentRejected, match="smallest amount Stripe accepts") as info:
        await paid_booking(uow_factory, gateway, seeded)
    assert info.value.code == "amount_too_small"
    assert "Nothing was charged" in info.value.user_message


async def test_starting_again_returns_the_same_session(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory)
    booking_id = await hold(uow_factory, seeded)
    first = await start_checkout(uow_factory, gateway, booking_id, now=NOW,
                                 public_url=PUBLIC_URL)
    again = await start_checkout(uow_factory, gateway, booking_id,
                                 now=NOW + timedelta(minutes=1), public_url=PUBLIC_URL)
    assert again.session_id == first.session_id and again.checkout_url == first.checkout_url
    assert len(fake_stripe.calls(*CREATE)) == 1
    assert len(fake_stripe.sessions) == 1


async def test_a_racing_second_create_gets_the_same_session_from_stripe(uow_factory, gateway,
                                                                        fake_stripe):
    """The idempotency key: two creates for one booking (same parameters) are one session."""
    seeded = await seed(uow_factory)
    booking_id = await hold(uow_factory, seeded)
    async with uow_factory() as uow:
        booking = await uow.bookings.get(booking_id)
        offering = await uow.offerings.get(booking.offering_id)
        coach = await uow.coaches.get(booking.coach_id)
    request = build_checkout(booking, offering, coach, [], fee_percent=0,
                             public_url=PUBLIC_URL,
                             expires_at=checkout_expiry(booking.expires_at, NOW))
    first = await gateway.create_checkout(request)
    second = await gateway.create_checkout(request)
    assert first == second
    assert len(fake_stripe.sessions) == 1


async def test_a_hold_that_ran_out_cannot_be_paid(uow_factory, gateway, fake_stripe):
    seeded = await seed(uow_factory)
    booking_id = await hold(uow_factory, seeded)
    with pytest.raises(Conflict, match="ran out"):
        await start_checkout(uow_factory, gateway, booking_id, now=NOW + timedelta(hours=1),
                             public_url=PUBLIC_URL)
    assert fake_stripe.calls(*CREATE) == []


@pytest.mark.parametrize("hold_minutes, expected", [
    (30, MIN_HOLD),  # Stripe's 30 minutes, plus a margin for the clocks
    (45, timedelta(minutes=45)),
    (1440, timedelta(hours=24) - timedelta(minutes=2)),  # Stripe's 24 hours, minus the margin
])
def test_checkout_expiry_stays_in_stripes_range(hold_minutes, expected):
    now = NOW + timedelta(microseconds=250)
    expiry = checkout_expiry(now + timedelta(minutes=hold_minutes), now)
    assert expiry.microsecond == 0
    assert timedelta(0) <= expiry - (now + expected) < timedelta(seconds=1)


async def test_a_connected_account_still_onboarding_gets_no_transfer(uow_factory, gateway,
                                                                    fake_stripe):
    account = fake_stripe.add_account(ready=False)
    seeded = await seed(uow_factory, stripe_account=account, fee_percent=15)
    started = await paid_booking(uow_factory, gateway, seeded)
    intent = fake_stripe.last(*CREATE).params["payment_intent_data"]
    assert "transfer_data" not in intent and "application_fee_amount" not in intent
    assert fake_stripe.last("GET", "/v1/accounts/{id}").path == f"/v1/accounts/{account}"
    payment = await payment_row(uow_factory, started.booking_id)
    assert (payment.destination_account, payment.platform_fee_minor) == (None, 375)
