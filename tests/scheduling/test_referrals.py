"""`scheduling.referrals` on SQLite and PostgreSQL: a member's code is made once and kept,
typed codes are normalised, unknown and own codes are refused, and commissions follow what was
kept of referred payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scheduling import referrals as service
from scheduling.errors import Conflict, InvalidInput, NotAllowed
from scheduling.money import Money
from scheduling.referrals import Referral, ReferrerCommission
from storage.models import Payment, Refund
from storage.models.referrals import ReferralCode
from storage.repositories.referrals import ReferredPaymentRow
from tests.cogs.booking_seed import create_coach, create_offering, insert_booking

GUILD, OTHER_GUILD = 1, 2
ANNA, BEN, STUDENT, COACH_USER = 600, 601, 700, 500
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


async def code_for(uow_factory, user_id, guild_id=GUILD, **kwargs):
    async with uow_factory() as uow:
        code = await service.referral_code(uow, guild_id=guild_id, user_id=user_id, **kwargs)
        await uow.commit()
    return code


async def resolve(uow_factory, code, student_id=STUDENT, guild_id=GUILD):
    async with uow_factory() as uow:
        return await service.resolve_referral(uow, guild_id=guild_id, code=code,
                                              student_id=student_id)


async def code_rows(uow_factory):
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(ReferralCode)))


async def set_commission(uow_factory, percent, guild_id=GUILD):
    async with uow_factory() as uow:
        await uow.guild_settings.update(guild_id, referral_commission_percent=percent)
        await uow.commit()


# ---------------------------------------------------------------- codes


async def test_a_members_code_is_made_once_and_stays_the_same(uow_factory):
    first = await code_for(uow_factory, ANNA)
    again = await code_for(uow_factory, ANNA)

    assert first == again
    assert len(first) == 8 and set(first) <= set(service.CODE_ALPHABET)
    assert await code_rows(uow_factory) == 1
    other_member = await code_for(uow_factory, BEN)
    other_server = await code_for(uow_factory, ANNA, guild_id=OTHER_GUILD)
    assert len({first, other_member, other_server}) == 3
    assert await code_rows(uow_factory) == 3


async def test_an_uncommitted_code_is_not_kept(uow_factory):
    async with uow_factory() as uow:
        await service.referral_code(uow, guild_id=GUILD, user_id=ANNA)
    assert await code_rows(uow_factory) == 0


async def test_a_code_taken_by_someone_else_is_drawn_again(uow_factory):
    taken = await code_for(uow_factory, ANNA, new_code=lambda: "TAKEN234")
    draws = iter(["TAKEN234", "TAKEN234", "FRESH567"])

    code = await code_for(uow_factory, BEN, new_code=lambda: next(draws))

    assert (taken, code) == ("TAKEN234", "FRESH567")
    assert (await resolve(uow_factory, "FRESH567")).referrer_id == BEN
    assert (await resolve(uow_factory, "TAKEN234")).referrer_id == ANNA


async def test_a_code_that_keeps_colliding_gives_up_with_a_message(uow_factory):
    await code_for(uow_factory, ANNA, new_code=lambda: "TAKEN234")
    with pytest.raises(Conflict, match="try again"):
        await code_for(uow_factory, BEN, new_code=lambda: "TAKEN234")
    assert await code_rows(uow_factory) == 1


async def test_a_typed_code_is_normalised_and_resolved_with_the_commission_now(uow_factory):
    await set_commission(uow_factory, 10)
    code = await code_for(uow_factory, ANNA)
    typed = f"  {code[:4].lower()} - {code[4:].lower()} "

    assert await resolve(uow_factory, typed) == Referral(ANNA, 10, code)
    await set_commission(uow_factory, 15)
    assert (await resolve(uow_factory, code)).percent == 15


async def test_the_commission_is_zero_on_an_unconfigured_server(uow_factory):
    code = await code_for(uow_factory, ANNA)
    assert await resolve(uow_factory, code) == Referral(ANNA, 0, code)


@pytest.mark.parametrize("typed", ["", "ABCDEFGH", "2345678", "234567890", "I0O1L234",
                                   "ABCD_EFG"])
async def test_unknown_or_malformed_codes_are_refused(uow_factory, typed):
    await code_for(uow_factory, ANNA, new_code=lambda: "ANNA2345")
    with pytest.raises(InvalidInput, match="not known on this server"):
        await resolve(uow_factory, typed)


async def test_a_code_of_another_server_is_unknown_here(uow_factory):
    code = await code_for(uow_factory, ANNA, guild_id=OTHER_GUILD)
    with pytest.raises(InvalidInput, match="not known on this server"):
        await resolve(uow_factory, code)


async def test_self_referral_is_refused(uow_factory):
    code = await code_for(uow_factory, STUDENT)
    with pytest.raises(NotAllowed) as refused:
        await resolve(uow_factory, code.lower())
    assert refused.value.user_message == "You cannot use your own referral code."


@FUZZ
@example(typed="anna-2345")
@example(typed=" A N N A 2 3 4 5 ")
@given(typed=st.text(max_size=24) | st.text(alphabet="23456789abcdefghjkmnpqrstuvwxyz -",
                                             min_size=6, max_size=14))
async def test_fuzzed_codes_resolve_or_are_refused_never_crash(uow_factory, typed):
    await code_for(uow_factory, ANNA, new_code=lambda: "ANNA2345")
    try:
        referral = await resolve(uow_factory, typed)
    except InvalidInput as refused:
        assert "not known on this server" in refused.user_message
    else:
        assert referral == Referral(ANNA, 0, "ANNA2345")
        assert service.normalise_code(typed) == "ANNA2345"
    assert await code_rows(uow_factory) == 1


# ---------------------------------------------------------------- commissions


async def referred_payment(uow_factory, offering, start, *, referrer, percent, amount,
                           status="paid", refunds=()):
    booking = await insert_booking(uow_factory, offering, STUDENT, start, referrer_id=referrer,
                                   referral_percent=percent)
    async with uow_factory() as uow:
        payment = Payment(booking_id=booking.id, checkout_session_id=f"cs_{booking.id}",
                          amount_minor=amount, currency=offering.currency, status=status)
        uow.session.add(payment)
        await uow.session.flush()
        for number, (minor, refund_status) in enumerate(refunds):
            uow.session.add(Refund(payment_id=payment.id, amount_minor=minor,
                                   status=refund_status,
                                   idempotency_key=f"refund:{payment.id}:{number}"))
        await uow.commit()


async def commissions(uow_factory, referrer_id=None):
    async with uow_factory() as uow:
        return await service.referral_commissions(uow, guild_id=GUILD, referrer_id=referrer_id)


async def test_commission_is_the_snapshot_percent_of_what_was_kept(uow_factory):
    coach = await create_coach(uow_factory, GUILD, COACH_USER, name="Carla")
    usd = await create_offering(uow_factory, coach, price_minor=10_000, currency="USD")
    eur = await create_offering(uow_factory, coach, title="Review", price_minor=3_000,
                                currency="EUR")
    hour = timedelta(hours=1)
    await referred_payment(uow_factory, usd, TUE_10, referrer=ANNA, percent=10, amount=10_000)
    # Partly refunded (a pending refund counts too, a failed one does not): 10 % of $60.
    await referred_payment(uow_factory, usd, TUE_10 + hour, referrer=ANNA, percent=10,
                           amount=10_000, status="partially_refunded",
                           refunds=((3_000, "succeeded"), (1_000, "pending"),
                                    (5_000, "failed")))
    # Fully refunded: no commission, still counted as referred.
    await referred_payment(uow_factory, usd, TUE_10 + 2 * hour, referrer=ANNA, percent=10,
                           amount=10_000, status="refunded", refunds=((10_000, "succeeded"),))
    await referred_payment(uow_factory, eur, TUE_10 + 3 * hour, referrer=ANNA, percent=5,
                           amount=3_000)
    await referred_payment(uow_factory, usd, TUE_10 + 4 * hour, referrer=BEN, percent=20,
                           amount=10_000)
    # Not counted: unpaid, and bookings without a referrer.
    await referred_payment(uow_factory, usd, TUE_10 + 5 * hour, referrer=BEN, percent=20,
                           amount=10_000, status="pending")
    await referred_payment(uow_factory, usd, TUE_10 + 6 * hour, referrer=None, percent=None,
                           amount=10_000)

    rows = await commissions(uow_factory)

    assert sorted(rows, key=lambda r: (r.referrer_id, r.kept.currency)) == [
        ReferrerCommission(ANNA, 1, 0, Money(3_000, "EUR"), Money(150, "EUR")),
        ReferrerCommission(ANNA, 3, 1, Money(16_000, "USD"), Money(1_600, "USD")),
        ReferrerCommission(BEN, 1, 0, Money(10_000, "USD"), Money(2_000, "USD")),
    ]
    assert await commissions(uow_factory, referrer_id=BEN) == [
        ReferrerCommission(BEN, 1, 0, Money(10_000, "USD"), Money(2_000, "USD"))]


def test_commission_is_rounded_down_once_per_referrer_and_currency():
    rows = [payment_row(amount=333, percent=10), payment_row(amount=333, percent=10),
            payment_row(amount=500, percent=0)]
    assert service.summarise_referrals(rows) == [
        ReferrerCommission(ANNA, 3, 0, Money(1_166, "USD"), Money(66, "USD"))]


def test_a_fully_refunded_payment_earns_nothing_even_before_its_refund_rows_arrive():
    rows = [payment_row(amount=5_000, percent=10, status="refunded"),
            payment_row(amount=5_000, percent=10, refunded=5_000)]
    assert service.summarise_referrals(rows) == [
        ReferrerCommission(ANNA, 2, 2, Money(0, "USD"), Money(0, "USD"))]


def payment_row(*, amount, percent, refunded=0, status="paid"):
    return ReferredPaymentRow(ANNA, percent, "USD", amount, refunded, status)
