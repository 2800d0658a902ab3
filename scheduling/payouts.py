"""Paying coaches: linking a Stripe connected account (`/coach payouts`) and what each coach
earned and is owed (`/coaching earnings`). Pure; the cogs are still to be written.

- A coach with a connected account that can receive transfers is paid by destination charges:
  Stripe moves the money minus the server's platform fee at payment time, and refunds take the
  transfer and the fee back proportionally.
- Without one (or while onboarding is unfinished) the money stays with the server's Stripe
  account and `coach_earnings` says what the server owes each coach.

    link = await start_payouts_onboarding(uow_factory, gateway, guild_id=g, user_id=u,
                                          public_url=settings.web.public_url)
    rows = await coach_earnings(uow, guild_id=g)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from scheduling.errors import NotAllowed
from scheduling.money import Money


class PayoutGateway(Protocol):
    async def create_connected_account(self, *, idempotency_key: str,
                                       metadata: dict[str, str],
                                       country: str | None = None) -> str: ...

    async def onboarding_link(self, account_id: str, *, return_url: str,
                              refresh_url: str) -> str: ...

    async def account_ready(self, account_id: str) -> bool: ...


class CoachRecord(Protocol):
    id: int
    guild_id: int
    user_id: int
    display_name: str
    stripe_account_id: str | None


class Coaches(Protocol):
    async def get_by_user(self, guild_id: int, user_id: int) -> CoachRecord | None: ...


class EarningRecord(Protocol):
    coach_id: int
    display_name: str
    currency: str
    amount_minor: int
    platform_fee_minor: int
    refunded_minor: int
    destination_account: str | None


class PayoutPayments(Protocol):
    async def set_coach_account(self, coach: Any, account_id: str | None) -> Any: ...

    async def earning_rows(self, guild_id: int, *, since: datetime | None = None,
                           until: datetime | None = None) -> Sequence[EarningRecord]: ...


class PayoutUnitOfWork(Protocol):
    coaches: Coaches
    payments: PayoutPayments

    async def commit(self) -> None: ...


NOT_A_COACH_YET = ("You have no coach profile in this server yet, so there is nothing to pay "
                   "out. Set one up with `/coach profile` first.")


@dataclass(frozen=True)
class PayoutsLink:
    """Where the coach finishes (or reviews) their Stripe payout details."""

    account_id: str
    url: str
    ready: bool


async def start_payouts_onboarding(
    uow_factory: Callable[..., AbstractAsyncContextManager[PayoutUnitOfWork]],
    gateway: PayoutGateway, *, guild_id: int, user_id: int, public_url: str,
) -> PayoutsLink:
    """Link a connected account to the caller's coach profile (made once, reused after) and
    return Stripe's onboarding link. Until Stripe reports the account ready, the coach's
    payments stay with the server (see `coach_earnings`)."""
    async with uow_factory() as uow:
        coach = await uow.coaches.get_by_user(guild_id, user_id)
        if coach is None:
            raise NotAllowed(NOT_A_COACH_YET)
        coach_id, account_id = coach.id, coach.stripe_account_id
    if account_id is None:
        account_id = await gateway.create_connected_account(
            idempotency_key=f"coach:{coach_id}:payouts-account",
            metadata={"source": "coachbot", "coach_id": str(coach_id),
                      "guild_id": str(guild_id), "user_id": str(user_id)})
        async with uow_factory(immediate=True) as uow:
            coach = await uow.coaches.get_by_user(guild_id, user_id)
            if coach is not None and coach.stripe_account_id is None:
                await uow.payments.set_coach_account(coach, account_id)
                await uow.commit()
            elif coach is not None and coach.stripe_account_id:
                account_id = coach.stripe_account_id  # a concurrent call linked one first
    base = public_url.rstrip("/")
    url = await gateway.onboarding_link(
        account_id, return_url=f"{base}/stripe/payouts/done",
        refresh_url=f"{base}/stripe/payouts/done?expired=1")
    return PayoutsLink(account_id, url, await gateway.account_ready(account_id))


@dataclass(frozen=True)
class CoachEarnings:
    """One coach's settled payments in one currency (refunds and the server's fee taken off
    in proportion). `owed`: what the server holds for the coach (no connected account);
    `transferred`: what Stripe paid to the coach's account directly."""

    coach_id: int
    display_name: str
    sessions: int
    gross: Money
    refunded: Money
    platform_fee: Money
    owed: Money
    transferred: Money


def kept_fee(amount_minor: int, fee_minor: int, refunded_minor: int) -> int:
    """The platform fee left after refunds, which give back the fee in proportion."""
    if amount_minor <= 0:
        return 0
    kept = max(0, amount_minor - refunded_minor)
    return fee_minor * kept // amount_minor


def summarise_earnings(rows: Sequence[EarningRecord]) -> list[CoachEarnings]:
    totals: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        entry = totals.setdefault((row.coach_id, row.currency), {
            "name": row.display_name, "sessions": 0, "gross": 0, "refunded": 0, "fee": 0,
            "owed": 0, "transferred": 0})
        refunded = min(row.refunded_minor, row.amount_minor)
        fee = kept_fee(row.amount_minor, row.platform_fee_minor, refunded)
        net = row.amount_minor - refunded - fee
        entry["sessions"] += 1
        entry["gross"] += row.amount_minor
        entry["refunded"] += refunded
        entry["fee"] += fee
        entry["transferred" if row.destination_account else "owed"] += net
    return [
        CoachEarnings(coach_id, entry["name"], entry["sessions"],
                      *(Money(entry[k], currency) for k in ("gross", "refunded", "fee", "owed",
                                                             "transferred")))
        for (coach_id, currency), entry in totals.items()
    ]


async def coach_earnings(uow: PayoutUnitOfWork, *, guild_id: int,
                         since: datetime | None = None,
                         until: datetime | None = None) -> list[CoachEarnings]:
    """What each coach of the server earned from sessions starting in `[since, until)`."""
    return summarise_earnings(await uow.payments.earning_rows(guild_id, since=since,
                                                              until=until))
