"""Package credits: how many a student can still use for an offering, spending them on bookings
and giving one back when a booking is cancelled within the policy.

    balance = await credit_balance(uow, guild_id=g, student_id=s, offering_id=o, now=now)
    await spend_credits(uow, guild_id=g, student_id=s, offering_id=o,
                        booking_ids=[b1, b2], now=now)  # in the booking's transaction
    await return_credit(uow, booking_id, now=now)      # in the cancellation's transaction

A credit is usable while `now < purchase.expires_at` (the session it books may be later).
Purchases whose credits expired stay on record; their unused credits are simply not usable.
Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from scheduling.errors import Conflict, InvalidInput, NotAllowed

ACTIVE: Final = "active"


class PurchaseRecord(Protocol):
    id: int
    guild_id: int
    offering_id: int
    student_id: int
    credits: int
    status: str
    expires_at: datetime | None


class CreditUseRecord(Protocol):
    id: int
    purchase_id: int
    booking_id: int
    used_at: datetime
    returned_at: datetime | None


class CreditStore(Protocol):
    async def purchases_of(self, *, guild_id: int, student_id: int,
                           offering_id: int | None = None, statuses: Sequence[str] | None = None,
                           lock: bool = False) -> Sequence[PurchaseRecord]: ...

    async def used_counts(self, purchase_ids: Sequence[int]) -> Mapping[int, int]: ...

    async def add_credit_use(self, *, purchase_id: int, booking_id: int,
                             used_at: datetime) -> CreditUseRecord: ...

    async def credit_use_for_booking(self, booking_id: int) -> CreditUseRecord | None: ...

    async def credit_uses_for_bookings(self, booking_ids: Sequence[int]
                                       ) -> Sequence[CreditUseRecord]: ...

    async def mark_returned(self, use: Any, at: datetime) -> bool: ...


class OfferingTitles(Protocol):
    async def get(self, offering_id: int) -> Any: ...


class CreditsUnitOfWork(Protocol):
    packages: CreditStore
    offerings: OfferingTitles


@dataclass(frozen=True)
class CreditBalance:
    remaining: int                 # usable credits (active, unexpired purchases)
    expires_at: datetime | None    # soonest expiry among purchases with credits left


@dataclass(frozen=True)
class _Usable:
    purchase_id: int
    left: int
    expires_at: datetime


def usable(purchase: PurchaseRecord, now: datetime) -> bool:
    """Paid and not expired yet."""
    return (purchase.status == ACTIVE and purchase.expires_at is not None
            and now < purchase.expires_at)


def plural(count: int, word: str = "credit") -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


async def _usable(uow: CreditsUnitOfWork, *, guild_id: int, student_id: int, offering_id: int,
                  now: datetime, lock: bool = False) -> list[_Usable]:
    """Purchases with usable credits left, soonest expiry first."""
    purchases = [p for p in await uow.packages.purchases_of(
        guild_id=guild_id, student_id=student_id, offering_id=offering_id,
        statuses=(ACTIVE,), lock=lock) if usable(p, now)]
    used = await uow.packages.used_counts([p.id for p in purchases])
    out = []
    for purchase in purchases:
        left = purchase.credits - used.get(purchase.id, 0)
        if left > 0:
            assert purchase.expires_at is not None
            out.append(_Usable(purchase.id, left, purchase.expires_at))
    return sorted(out, key=lambda u: (u.expires_at, u.purchase_id))


async def credit_balance(uow: CreditsUnitOfWork, *, guild_id: int, student_id: int,
                         offering_id: int, now: datetime) -> CreditBalance:
    """The student's usable credits for the offering, and when the first of them expires."""
    rows = await _usable(uow, guild_id=guild_id, student_id=student_id,
                         offering_id=offering_id, now=now)
    return CreditBalance(sum(r.left for r in rows), rows[0].expires_at if rows else None)


async def spend_credits(uow: CreditsUnitOfWork, *, guild_id: int, student_id: int,
                        offering_id: int, booking_ids: Sequence[int], now: datetime) -> None:
    """One credit per booking, from the purchase that expires soonest first, inside the
    caller's booking transaction (the purchases are locked until it ends). Raises NotAllowed
    (saying how many are left) when there are fewer usable credits than bookings, Conflict
    when a booking was paid with a credit already; nothing is written then."""
    wanted = list(booking_ids)
    if not wanted:
        return
    if len(set(wanted)) != len(wanted):
        raise InvalidInput("The same booking was listed twice: each booking uses one credit.")
    if await uow.packages.credit_uses_for_bookings(wanted):
        raise Conflict("A credit was already used for this booking.")
    rows = await _usable(uow, guild_id=guild_id, student_id=student_id,
                         offering_id=offering_id, now=now, lock=True)
    have = sum(r.left for r in rows)
    if have < len(wanted):
        offering = await uow.offerings.get(offering_id)
        title = getattr(offering, "title", None) or "this offering"
        raise NotAllowed(
            f"You have {plural(have)} left for **{title}**, and this needs "
            f"{plural(len(wanted))}. Book fewer sessions, pay for the rest, or buy a package "
            "with `/packages buy`.")
    queue = iter(wanted)
    for row in rows:
        for _ in range(row.left):
            booking_id = next(queue, None)
            if booking_id is None:
                return
            await uow.packages.add_credit_use(purchase_id=row.purchase_id,
                                              booking_id=booking_id, used_at=now)


async def return_credit(uow: CreditsUnitOfWork, booking_id: int, *, now: datetime) -> bool:
    """Give back the credit the booking used (in the caller's transaction); False when it
    used none or got it back already."""
    use = await uow.packages.credit_use_for_booking(booking_id)
    if use is None or use.returned_at is not None:
        return False
    return await uow.packages.mark_returned(use, now)
