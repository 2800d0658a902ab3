"""Session packages: a coach sells N sessions of an offering at once (`/offering package
add|remove`), students see their credits (`/packages`), and are told by DM 7 days before unused
credits expire.

    line = await add_package(uow, offering, sessions=5, price="120", valid_days=90)
    line = await remove_package(uow, coach, "12")          # deactivates; purchases stay
    rows = await student_overview(uow, guild_id=g, student_id=s, now=now)
    notices = await send_expiry_notices(uow_factory, now=now)  # hourly; DM them afterwards

Buying goes through Stripe Checkout (`scheduling/package_payments.py`); spending and returning
credits is `scheduling/credits.py`.

Expiry notices: one DM per purchase, claimed by setting `expiry_notice_sent_at` in the same
transaction that selects it, and sent after the commit (a crash in between loses that one DM
rather than sending it twice). A purchase valid for 7 days or less gets no separate notice:
its "credits are ready" DM already says when they expire (`expiry_notice_sent_at` is set when
it is paid).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from scheduling.credits import ACTIVE, CreditStore, plural, usable
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from scheduling.money import Money, parse_price
from scheduling.payments import NotifyStudent
from scheduling.provisioning import timestamp

MIN_SESSIONS: Final = 2
MAX_SESSIONS: Final = 50
MIN_VALID_DAYS: Final = 1
MAX_VALID_DAYS: Final = 730
MAX_ACTIVE_PER_OFFERING: Final = 10
NOTICE_AHEAD: Final = timedelta(days=7)
NOTICE_BATCH: Final = 100
CHOICE_LIMIT: Final = 25

FREE_OFFERING: Final = ("**{title}** is free, so there is nothing to sell in a package. Give it "
                        "a price first with `/offering edit`.")
NOT_BOOKABLE: Final = "**{title}** is deleted: packages are sold for existing offerings only."
FREE_PACKAGE: Final = "A package needs a price above zero."
SESSIONS_RANGE: Final = (f"A package holds {MIN_SESSIONS} to {MAX_SESSIONS} sessions "
                         "(for one session, students simply book it).")
DAYS_RANGE: Final = (f"Credits must stay valid {MIN_VALID_DAYS} to {MAX_VALID_DAYS} days "
                     "after the purchase.")
DUPLICATE: Final = ("**{title}** already sells a package of {sessions} sessions. Remove it "
                    "with `/offering package remove` first to change it.")
TOO_MANY: Final = ("**{title}** has {limit} packages already. Remove one with "
                   "`/offering package remove` first.")
UNKNOWN_PACKAGE: Final = ("That package does not exist (or is no longer sold). Pick one from "
                          "the list that appears while you type.")
NOT_YOURS: Final = "That package belongs to another coach's offering."

# purchase statuses shown in /packages
PENDING: Final = "pending_payment"
PAID_STATUSES: Final = (ACTIVE, "refunded")


class PackageRecord(Protocol):
    id: int
    guild_id: int
    offering_id: int
    sessions: int
    price_minor: int
    currency: str
    valid_days: int
    active: bool


class PurchaseRecord(Protocol):
    id: int
    guild_id: int
    package_id: int
    checkout_session_id: str | None
    payment_intent_id: str | None
    platform_fee_minor: int
    offering_id: int
    student_id: int
    credits: int
    status: str
    amount_minor: int
    currency: str
    paid_at: datetime | None
    expires_at: datetime | None
    expiry_notice_sent_at: datetime | None


class ListingRecord(Protocol):
    package: PackageRecord
    offering_title: str
    offering_status: str
    coach_id: int
    coach_user_id: int
    coach_name: str


class OfferingRecord(Protocol):
    id: int
    guild_id: int
    coach_id: int
    status: str
    title: str
    price_minor: int
    currency: str


class CoachRecord(Protocol):
    id: int
    guild_id: int
    user_id: int
    display_name: str


class PackageStore(CreditStore, Protocol):
    async def add_package(self, **fields: Any) -> PackageRecord: ...

    async def get_package(self, package_id: int) -> PackageRecord | None: ...

    async def update_package(self, package: Any, **fields: Any) -> PackageRecord: ...

    async def packages_of_offering(self, offering_id: int, *,
                                   active_only: bool = True) -> Sequence[PackageRecord]: ...

    async def listings(self, *, guild_id: int, coach_id: int | None = None,
                       active_only: bool = True) -> Sequence[ListingRecord]: ...

    async def add_purchase(self, **fields: Any) -> PurchaseRecord: ...

    async def get_purchase(self, purchase_id: int) -> PurchaseRecord | None: ...

    async def lock_purchase(self, purchase_id: int) -> PurchaseRecord | None: ...

    async def update_purchase(self, purchase: Any, **fields: Any) -> PurchaseRecord: ...

    async def due_expiry_notices(self, *, now: datetime, horizon: datetime,
                                 limit: int) -> Sequence[PurchaseRecord]: ...

    async def claim_expiry_notice(self, purchase_id: int, at: datetime) -> bool: ...


class Offerings(Protocol):
    async def get(self, offering_id: int) -> OfferingRecord | None: ...


class PackagesUnitOfWork(Protocol):
    packages: PackageStore
    offerings: Offerings

    async def commit(self) -> None: ...


PackagesUnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[PackagesUnitOfWork]]


# ---------------------------------------------------------------- labels


@dataclass(frozen=True)
class PackageLine:
    package_id: int
    title: str
    coach_name: str
    sessions: int
    price: Money
    valid_days: int

    @property
    def short(self) -> str:
        """`5 sessions for $120.00, valid 90 days`"""
        return (f"{self.sessions} sessions for {self.price}, valid "
                f"{plural(self.valid_days, 'day')}")

    @property
    def label(self) -> str:
        """`5 × Title with Coach — $120.00` (an autocomplete choice, at most 100 chars)."""
        tail = f" with {self.coach_name} — {self.price}"
        head = f"{self.sessions} × "
        room = 100 - len(head) - len(tail)
        title = self.title if len(self.title) <= room else self.title[:max(room - 1, 1)] + "…"
        return (head + title + tail)[:100]


def line_of(package: PackageRecord, title: str, coach_name: str) -> PackageLine:
    return PackageLine(package.id, title, coach_name, package.sessions,
                       Money(package.price_minor, package.currency), package.valid_days)


def package_id_of(text: str) -> int | None:
    wanted = text.strip().removeprefix("#")
    if wanted.isascii() and wanted.isdecimal() and len(wanted) < 19:
        return int(wanted)
    return None


# ---------------------------------------------------------------- the coach's side


async def add_package(uow: PackagesUnitOfWork, offering: OfferingRecord, *, sessions: int,
                      price: str, valid_days: int, coach_name: str) -> PackageLine:
    """Validate and store a package of `offering` (the caller commits and has checked that
    the caller owns the offering). The price is in the offering's currency."""
    if offering.status == "deleted":
        raise NotFound(NOT_BOOKABLE.format(title=offering.title))
    if offering.price_minor <= 0:
        raise InvalidInput(FREE_OFFERING.format(title=offering.title))
    if not MIN_SESSIONS <= sessions <= MAX_SESSIONS:
        raise InvalidInput(SESSIONS_RANGE)
    if not MIN_VALID_DAYS <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(DAYS_RANGE)
    amount = parse_price(price, offering.currency)
    if amount.minor <= 0:
        raise InvalidInput(FREE_PACKAGE)
    existing = await uow.packages.packages_of_offering(offering.id)
    if any(p.sessions == sessions for p in existing):
        raise Conflict(DUPLICATE.format(title=offering.title, sessions=sessions))
    if len(existing) >= MAX_ACTIVE_PER_OFFERING:
        raise Conflict(TOO_MANY.format(title=offering.title, limit=MAX_ACTIVE_PER_OFFERING))
    package = await uow.packages.add_package(
        guild_id=offering.guild_id, offering_id=offering.id, sessions=sessions,
        price_minor=amount.minor, currency=amount.currency, valid_days=valid_days, active=True)
    return line_of(package, offering.title, coach_name)


async def coach_choices(uow: PackagesUnitOfWork, coach: CoachRecord, typed: str
                        ) -> list[tuple[str, str]]:
    """(label, package id) of the coach's packages still on sale."""
    needle = typed.strip().casefold()
    out = []
    for row in await uow.packages.listings(guild_id=coach.guild_id, coach_id=coach.id):
        line = line_of(row.package, row.offering_title, row.coach_name)
        if needle and needle not in line.label.casefold() and needle != str(line.package_id):
            continue
        out.append((line.label, str(line.package_id)))
    return out[:CHOICE_LIMIT]


async def remove_package(uow: PackagesUnitOfWork, coach: CoachRecord, text: str) -> PackageLine:
    """Stop selling a package of the coach (deactivate it; purchases and credits stay)."""
    package_id = package_id_of(text)
    package = await uow.packages.get_package(package_id) if package_id is not None else None
    if package is None or not package.active or package.guild_id != coach.guild_id:
        raise NotFound(UNKNOWN_PACKAGE)
    offering = await uow.offerings.get(package.offering_id)
    if offering is None or offering.coach_id != coach.id:
        raise NotAllowed(NOT_YOURS)
    await uow.packages.update_package(package, active=False)
    return line_of(package, offering.title, coach.display_name)


async def coach_packages(uow: PackagesUnitOfWork, coach: CoachRecord
                         ) -> dict[int, list[PackageLine]]:
    """The coach's packages on sale, by offering id (for `/offering list`)."""
    out: dict[int, list[PackageLine]] = {}
    for row in await uow.packages.listings(guild_id=coach.guild_id, coach_id=coach.id):
        out.setdefault(row.package.offering_id, []).append(
            line_of(row.package, row.offering_title, row.coach_name))
    return out


# ---------------------------------------------------------------- the student's side


async def buy_choices(uow: PackagesUnitOfWork, guild_id: int, typed: str
                      ) -> list[tuple[str, str]]:
    """(label, package id) of the packages on sale in the server (published offerings)."""
    needle = typed.strip().casefold()
    out = []
    for row in await uow.packages.listings(guild_id=guild_id):
        if row.offering_status != "published":
            continue
        line = line_of(row.package, row.offering_title, row.coach_name)
        if needle and needle not in line.label.casefold() and needle != str(line.package_id):
            continue
        out.append((line.label, str(line.package_id)))
    return out[:CHOICE_LIMIT]


@dataclass(frozen=True)
class OwnedPurchase:
    """One purchase in `/packages`."""

    purchase_id: int
    title: str
    credits: int
    left: int
    state: str  # usable | used_up | expired | pending | refunded
    expires_at: datetime | None

    @property
    def line(self) -> str:
        if self.state == "pending":
            return f"{plural(self.credits)}: waiting for the payment"
        if self.state == "refunded":
            return f"{plural(self.credits)}: refunded"
        assert self.expires_at is not None
        if self.state == "expired":
            return (f"{self.left} of {self.credits} credits unused, expired "
                    f"{timestamp(self.expires_at, 'D')}")
        if self.state == "used_up":
            return f"all {self.credits} credits used"
        return (f"**{self.left}** of {self.credits} credits left, expire "
                f"{timestamp(self.expires_at, 'D')} ({timestamp(self.expires_at, 'R')})")


@dataclass(frozen=True)
class OfferingCredits:
    offering_id: int
    title: str
    remaining: int
    purchases: tuple[OwnedPurchase, ...]


async def student_overview(uow: PackagesUnitOfWork, *, guild_id: int, student_id: int,
                           now: datetime) -> list[OfferingCredits]:
    """The student's package purchases in the server, grouped by offering: usable credits
    first, then the rest (expired purchases stay listed as expired)."""
    purchases = await uow.packages.purchases_of(
        guild_id=guild_id, student_id=student_id, statuses=(*PAID_STATUSES, PENDING))
    used = await uow.packages.used_counts([p.id for p in purchases])
    grouped: dict[int, list[OwnedPurchase]] = {}
    titles: dict[int, str] = {}
    for purchase in purchases:
        if purchase.offering_id not in titles:
            offering = await uow.offerings.get(purchase.offering_id)
            titles[purchase.offering_id] = offering.title if offering else "Deleted offering"
        left = max(0, purchase.credits - used.get(purchase.id, 0))
        if purchase.status == PENDING:
            state = "pending"
        elif purchase.status == "refunded":
            state = "refunded"
        elif not usable(purchase, now):  # type: ignore[arg-type]
            state = "expired"
        else:
            state = "usable" if left else "used_up"
        grouped.setdefault(purchase.offering_id, []).append(OwnedPurchase(
            purchase.id, titles[purchase.offering_id], purchase.credits, left, state,
            purchase.expires_at))
    order = {"usable": 0, "pending": 1, "used_up": 2, "expired": 3, "refunded": 4}
    out = []
    for offering_id, rows in grouped.items():
        rows.sort(key=lambda r: (order[r.state], r.expires_at or now, r.purchase_id))
        remaining = sum(r.left for r in rows if r.state == "usable")
        out.append(OfferingCredits(offering_id, titles[offering_id], remaining, tuple(rows)))
    out.sort(key=lambda o: (-o.remaining, o.title.casefold()))
    return out


# ---------------------------------------------------------------- expiry notices


def expiry_text(left: int, title: str, expires_at: datetime) -> str:
    return (f"{plural(left)} for **{title}** expire {timestamp(expires_at, 'R')} "
            f"({timestamp(expires_at, 'D')}); book them with `/book` before then.")


async def send_expiry_notices(uow_factory: PackagesUnitOfWorkFactory, *, now: datetime,
                              limit: int = NOTICE_BATCH) -> list[NotifyStudent]:
    """Claim the purchases whose credits expire within 7 days and still have some unused,
    and return the DMs to send after the commit (each purchase once, ever)."""
    notices = []
    async with uow_factory(immediate=True) as uow:
        due = await uow.packages.due_expiry_notices(now=now, horizon=now + NOTICE_AHEAD,
                                                    limit=limit)
        used = await uow.packages.used_counts([p.id for p in due])
        for purchase in due:
            if not await uow.packages.claim_expiry_notice(purchase.id, now):
                continue
            offering = await uow.offerings.get(purchase.offering_id)
            title = offering.title if offering else "your sessions"
            assert purchase.expires_at is not None
            left = purchase.credits - used.get(purchase.id, 0)
            notices.append(NotifyStudent(purchase.student_id, None,
                                         expiry_text(left, title, purchase.expires_at)))
        await uow.commit()
    return notices
