"""Referrals: a member's code (`/referral link`), a student giving it in `/book referral:`, and
the commission the server's referrers earned (`/coaching earnings`, `/referral stats`). Pure.

    code = await referral_code(uow, guild_id=g, user_id=u); await uow.commit()
    referral = await resolve_referral(uow, guild_id=g, code=text, student_id=s)
    # the booking stores referral.referrer_id and referral.percent (the rate when booked)
    rows = await referral_commissions(uow, guild_id=g)

Commission: each referred booking earns its snapshotted percent of what the server kept of its
payment (the amount less refunds that count: pending, requires action or succeeded); a fully
refunded payment earns nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from scheduling.errors import Conflict, InvalidInput, NotAllowed
from scheduling.money import Money

CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud safely
CODE_LENGTH: Final = 8
CODE_ATTEMPTS: Final = 10
# Payment statuses of money that was taken; "refunded" ones earn no commission.
FULLY_REFUNDED: Final = "refunded"

UNKNOWN_CODE: Final = ("That referral code is not known on this server. Check it with the member "
                       "who gave it to you (they see it with `/referral link`), or book without "
                       "one.")
OWN_CODE: Final = "You cannot use your own referral code."
NO_FREE_CODE: Final = "I could not make a referral code for you just now. Please try again."


# ---------------------------------------------------------------- ports


class ReferralCodeRecord(Protocol):
    guild_id: int
    user_id: int
    code: str


class ReferredPaymentRecord(Protocol):
    referrer_id: int
    referral_percent: int
    currency: str
    amount_minor: int
    refunded_minor: int
    status: str


class ReferralStore(Protocol):
    async def code_of(self, guild_id: int, user_id: int) -> ReferralCodeRecord | None: ...

    async def by_code(self, code: str) -> ReferralCodeRecord | None: ...

    async def add_code(self, guild_id: int, user_id: int, code: str) -> bool: ...

    async def referred_payments(self, guild_id: int, *, referrer_id: int | None = None
                                ) -> Sequence[ReferredPaymentRecord]: ...


class CommissionSettingsRecord(Protocol):
    referral_commission_percent: int


class CommissionSettings(Protocol):
    async def get(self, guild_id: int) -> CommissionSettingsRecord | None: ...


class ReferralUnitOfWork(Protocol):
    referrals: ReferralStore
    guild_settings: CommissionSettings


# ---------------------------------------------------------------- codes


@dataclass(frozen=True)
class Referral:
    referrer_id: int
    percent: int  # the server's commission percent now
    code: str


def random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None if it cannot be one."""
    code = "".join(ch for ch in text.strip().upper() if not ch.isspace() and ch != "-")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


async def commission_percent(uow: ReferralUnitOfWork, guild_id: int) -> int:
    """The server's referral commission percent now (0 when never configured)."""
    settings = await uow.guild_settings.get(guild_id)
    return settings.referral_commission_percent if settings is not None else 0


async def referral_code(uow: ReferralUnitOfWork, *, guild_id: int, user_id: int,
                        new_code: Callable[[], str] = random_code) -> str:
    """The member's code on this server, created on first use (the caller commits). A new code
    that happens to be taken is drawn again; a concurrent first use keeps the other's code."""
    existing = await uow.referrals.code_of(guild_id, user_id)
    if existing is not None:
        return existing.code
    for _ in range(CODE_ATTEMPTS):
        code = new_code()
        if await uow.referrals.add_code(guild_id, user_id, code):
            return code
        existing = await uow.referrals.code_of(guild_id, user_id)
        if existing is not None:
            return existing.code
    raise Conflict(NO_FREE_CODE)


async def resolve_referral(uow: ReferralUnitOfWork, *, guild_id: int, code: str,
                           student_id: int) -> Referral:
    """Who referred the student, from the code they typed (spaces, dashes and case ignored)."""
    normalised = normalise_code(code)
    record = await uow.referrals.by_code(normalised) if normalised is not None else None
    if record is None or record.guild_id != guild_id:
        raise InvalidInput(UNKNOWN_CODE)
    if record.user_id == student_id:
        raise NotAllowed(OWN_CODE)
    return Referral(record.user_id, await commission_percent(uow, guild_id), record.code)


# ---------------------------------------------------------------- commissions


@dataclass(frozen=True)
class ReferrerCommission:
    """What one referrer earned in one currency: `bookings` referred bookings that were paid
    (`fully_refunded` of them gave all the money back), `kept` what the server kept of their
    payments, and the commission on it."""

    referrer_id: int
    bookings: int
    fully_refunded: int
    kept: Money
    commission: Money


def kept_amount(row: ReferredPaymentRecord) -> int:
    if row.status == FULLY_REFUNDED:
        return 0
    return max(0, row.amount_minor - max(0, row.refunded_minor))


def summarise_referrals(rows: Sequence[ReferredPaymentRecord]) -> list[ReferrerCommission]:
    """Per referrer and currency, in the order first seen. The commission is rounded down once
    per referrer and currency (sum of kept × percent, then / 100)."""
    totals: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        entry = totals.setdefault((row.referrer_id, row.currency),
                                  {"bookings": 0, "refunded": 0, "kept": 0, "cents": 0})
        kept = kept_amount(row)
        percent = min(100, max(0, row.referral_percent))
        entry["bookings"] += 1
        entry["refunded"] += 1 if kept == 0 and row.amount_minor > 0 else 0
        entry["kept"] += kept
        entry["cents"] += kept * percent
    return [ReferrerCommission(referrer_id, entry["bookings"], entry["refunded"],
                               Money(entry["kept"], currency),
                               Money(entry["cents"] // 100, currency))
            for (referrer_id, currency), entry in totals.items()]


async def referral_commissions(uow: ReferralUnitOfWork, *, guild_id: int,
                               referrer_id: int | None = None) -> list[ReferrerCommission]:
    """What the server's referrers (or only `referrer_id`) earned from referred bookings."""
    return summarise_referrals(await uow.referrals.referred_payments(guild_id,
                                                                     referrer_id=referrer_id))
