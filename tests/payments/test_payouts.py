"""Coach payouts: linking a connected account once, and what each coach earned and is owed
(refunds and the platform fee taken off in proportion)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payments.objects import event_from_dict
from scheduling.errors import NotAllowed
from scheduling.payments import handle_event, refund_booking, start_checkout
from scheduling.payouts import coach_earnings, kept_fee, start_payouts_onboarding
from tests.payments.helpers import (
    COACH_USER,
    GUILD,
    NOW,
    PUBLIC_URL,
    TUE_10,
    hold,
    seed,
)

LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def uow_factory(sqlite_uow_factory):
    """SQLite only: these tests are about what Stripe receives."""
    return sqlite_uow_factory


async def test_onboarding_links_one_account_and_reuses_it(uow_factory, gateway, fake_stripe):
    await seed(uow_factory)

    first = await start_payouts_onboarding(uow_factory, gateway, guild_id=GUILD,
                                           user_id=COACH_USER, public_url=PUBLIC_URL)
    second = await start_payouts_onboarding(uow_factory, gateway, guild_id=GUILD,
                                            user_id=COACH_USER, public_url=PUBLIC_URL)

    assert first.account_id == second.account_id and not first.ready
    assert first.url.startswith("https://connect.stripe.com/")
    assert len(fake_stripe.calls("POST", "/v1/accounts")) == 1
    created = fake_stripe.last("POST", "/v1/accounts")
    assert created.idempotency_key.endswith(":payouts-account")
    link = fake_stripe.last("POST", "/v1/account_links").params
    assert link["return_url"] == f"{PUBLIC_URL}/stripe/payouts/done"
    async with uow_factory() as uow:
        coach = await uow.coaches.get_by_user(GUILD, COACH_USER)
    assert coach.stripe_account_id == first.account_id


async def test_only_coaches_have_payouts(uow_factory, gateway):
    with pytest.raises(NotAllowed, match="coach profile"):
        await start_payouts_onboarding(uow_factory, gateway, guild_id=GUILD, user_id=1,
                                       public_url=PUBLIC_URL)


async def pay(uow_factory, gateway, fake_stripe, seeded, *, start=TUE_10, student=7):
    booking_id = await hold(uow_factory, seeded, start=start, student=student)
    started = await start_checkout(uow_factory, gateway, booking_id, now=NOW,
                                   public_url=PUBLIC_URL)
    event = fake_stripe.complete_checkout(started.session_id)
    await handle_event(uow_factory, event_from_dict(event), now=LATER)
    return booking_id


async def test_earnings_say_what_the_server_owes_each_coach(uow_factory, gateway, fake_stripe):
    held = await seed(uow_factory, price_minor=10_000, fee_percent=10)
    account = fake_stripe.add_account()
    transferred = await seed(uow_factory, price_minor=5_000, coach_user=COACH_USER + 1,
                             stripe_account=account)
    first = await pay(uow_factory, gateway, fake_stripe, held)
    await pay(uow_factory, gateway, fake_stripe, held, start=TUE_10 + timedelta(hours=2))
    await pay(uow_factory, gateway, fake_stripe, transferred, student=9)
    await refund_booking(uow_factory, gateway, first, now=LATER, reason="goodwill",
                         amount_minor=5_000)
    await hold(uow_factory, held, start=TUE_10 + timedelta(hours=4))  # unpaid: not counted

    async with uow_factory() as uow:
        earnings = await coach_earnings(uow, guild_id=GUILD)

    assert len(earnings) == 2
    carla = next(e for e in earnings if e.gross.minor == 20_000)
    assert (carla.sessions, carla.refunded.minor, carla.platform_fee.minor,
            carla.owed.minor, carla.transferred.minor) == (2, 5_000, 1_500, 13_500, 0)
    # The server's 10 % applies to every coach; Stripe sent the rest to the linked account.
    other = next(e for e in earnings if e.gross.minor == 5_000)
    assert (other.platform_fee.minor, other.owed.minor, other.transferred.minor) == (
        500, 0, 4_500)
    assert carla.gross.currency == "USD"


def test_refunds_give_back_the_fee_in_proportion():
    assert kept_fee(10_000, 1_000, 0) == 1_000
    assert kept_fee(10_000, 1_000, 5_000) == 500
    assert kept_fee(10_000, 1_000, 10_000) == 0
    assert kept_fee(999, 99, 333) == 66
    assert kept_fee(0, 0, 0) == 0
