"""Packages, their purchases and the credits spent on bookings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Coach, CreditUse, Offering, Package, PackagePurchase

_PACKAGE_FIELDS: Final = frozenset(Package.__table__.columns.keys()) - {"id", "created_at"}
_PURCHASE_FIELDS: Final = (frozenset(PackagePurchase.__table__.columns.keys())
                           - {"id", "created_at"})


@dataclass(frozen=True)
class PackageListing:
    """A package with the offering and coach it belongs to (for choices and labels)."""

    package: Package
    offering_title: str
    offering_status: str
    coach_id: int
    coach_user_id: int
    coach_name: str


class PackageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # ------------------------------------------------------------ packages

    async def add_package(self, **fields: Any) -> Package:
        package = Package(**fields)
        self._session.add(package)
        await self._session.flush()
        return package

    async def get_package(self, package_id: int) -> Package | None:
        return await self._session.get(Package, package_id)

    async def update_package(self, package: Package, **fields: Any) -> Package:
        unknown = set(fields) - _PACKAGE_FIELDS
        if unknown:
            raise AttributeError(f"packages has no updatable columns {sorted(unknown)}")
        for name, value in fields.items():
            setattr(package, name, value)
        await self._session.flush()
        return package

    async def packages_of_offering(self, offering_id: int, *,
                                   active_only: bool = True) -> list[Package]:
        statement = select(Package).where(Package.offering_id == offering_id)
        if active_only:
            statement = statement.where(Package.active.is_(True))
        return list(await self._session.scalars(statement.order_by(Package.sessions,
                                                                   Package.id)))

    async def listings(self, *, guild_id: int, coach_id: int | None = None,
                       active_only: bool = True) -> list[PackageListing]:
        """Packages of the server (or of one coach), with offering and coach, in the order
        coach name, offering title, sessions."""
        statement = (
            select(Package, Offering.title, Offering.status, Coach.id, Coach.user_id,
                   Coach.display_name)
            .join(Offering, Offering.id == Package.offering_id)
            .join(Coach, Coach.id == Offering.coach_id)
            .where(Package.guild_id == guild_id)
            .order_by(Coach.display_name, Offering.title, Package.sessions, Package.id)
        )
        if coach_id is not None:
            statement = statement.where(Offering.coach_id == coach_id)
        if active_only:
            statement = statement.where(Package.active.is_(True))
        rows = (await self._session.execute(statement)).all()
        return [PackageListing(*row) for row in rows]

    # ------------------------------------------------------------ purchases

    async def add_purchase(self, **fields: Any) -> PackagePurchase:
        purchase = PackagePurchase(**fields)
        self._session.add(purchase)
        await self._session.flush()
        return purchase

    async def get_purchase(self, purchase_id: int) -> PackagePurchase | None:
        return await self._session.get(PackagePurchase, purchase_id)

    async def lock_purchase(self, purchase_id: int) -> PackagePurchase | None:
        """The purchase, freshly read and locked until the transaction ends (``FOR UPDATE``
        on PostgreSQL; SQLite serialises through ``BEGIN IMMEDIATE``)."""
        statement = (select(PackagePurchase).where(PackagePurchase.id == purchase_id)
                     .with_for_update().execution_options(populate_existing=True))
        return (await self._session.scalars(statement)).one_or_none()

    async def update_purchase(self, purchase: PackagePurchase,
                              **fields: Any) -> PackagePurchase:
        unknown = set(fields) - _PURCHASE_FIELDS
        if unknown:
            raise AttributeError(f"package_purchases has no updatable columns {sorted(unknown)}")
        for name, value in fields.items():
            setattr(purchase, name, value)
        await self._session.flush()
        return purchase

    async def purchases_of(self, *, guild_id: int, student_id: int,
                           offering_id: int | None = None, statuses: Sequence[str] | None = None,
                           lock: bool = False) -> list[PackagePurchase]:
        """A student's purchases in a server (of one offering), oldest first; `lock` locks
        them until the transaction ends (spending credits)."""
        statement = select(PackagePurchase).where(PackagePurchase.guild_id == guild_id,
                                                  PackagePurchase.student_id == student_id)
        if offering_id is not None:
            statement = statement.where(PackagePurchase.offering_id == offering_id)
        if statuses is not None:
            statement = statement.where(PackagePurchase.status.in_(tuple(statuses)))
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return list(await self._session.scalars(statement.order_by(PackagePurchase.id)))

    # ------------------------------------------------------------ credits

    async def used_counts(self, purchase_ids: Sequence[int]) -> dict[int, int]:
        """Credits spent and not given back, by purchase id (purchases with none left out)."""
        if not purchase_ids:
            return {}
        statement = (select(CreditUse.purchase_id, func.count())
                     .where(CreditUse.purchase_id.in_(tuple(purchase_ids)),
                            CreditUse.returned_at.is_(None))
                     .group_by(CreditUse.purchase_id))
        return {int(pid): int(count)
                for pid, count in (await self._session.execute(statement)).all()}

    async def add_credit_use(self, *, purchase_id: int, booking_id: int,
                             used_at: datetime) -> CreditUse:
        use = CreditUse(purchase_id=purchase_id, booking_id=booking_id, used_at=used_at)
        self._session.add(use)
        await self._session.flush()
        return use

    async def credit_use_for_booking(self, booking_id: int) -> CreditUse | None:
        statement = select(CreditUse).where(CreditUse.booking_id == booking_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def credit_uses_for_bookings(self, booking_ids: Sequence[int]) -> list[CreditUse]:
        if not booking_ids:
            return []
        statement = select(CreditUse).where(CreditUse.booking_id.in_(tuple(booking_ids)))
        return list(await self._session.scalars(statement))

    async def mark_returned(self, use: CreditUse, at: datetime) -> bool:
        """Give the credit back (once): False when it was returned already."""
        result = await self._session.execute(
            update(CreditUse).where(CreditUse.id == use.id, CreditUse.returned_at.is_(None))
            .values(returned_at=at).execution_options(synchronize_session=False))
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return False
        await self._session.refresh(use)
        return True

    # ------------------------------------------------------------ expiry notices

    async def due_expiry_notices(self, *, now: datetime, horizon: datetime,
                                 limit: int) -> list[PackagePurchase]:
        """Paid purchases expiring in (now, horizon] with unused credits whose expiry notice
        was not sent yet, soonest expiry first."""
        used = (select(func.count()).select_from(CreditUse)
                .where(CreditUse.purchase_id == PackagePurchase.id,
                       CreditUse.returned_at.is_(None))
                .scalar_subquery())
        statement = (select(PackagePurchase)
                     .where(PackagePurchase.status == "active",
                            PackagePurchase.expiry_notice_sent_at.is_(None),
                            PackagePurchase.expires_at > now,
                            PackagePurchase.expires_at <= horizon,
                            PackagePurchase.credits > used)
                     .order_by(PackagePurchase.expires_at, PackagePurchase.id).limit(limit))
        return list(await self._session.scalars(statement))

    async def claim_expiry_notice(self, purchase_id: int, at: datetime) -> bool:
        """Mark the purchase's expiry notice as sent; False when another process did first."""
        result = await self._session.execute(
            update(PackagePurchase)
            .where(PackagePurchase.id == purchase_id,
                   PackagePurchase.expiry_notice_sent_at.is_(None))
            .values(expiry_notice_sent_at=at).execution_options(synchronize_session=False))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]
