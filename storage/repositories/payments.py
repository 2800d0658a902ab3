"""Payments and refunds of bookings (and the add-ons priced into a checkout)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Coach, OfferingAddon, Payment, Refund

_PAYMENT_FIELDS: Final = frozenset(Payment.__table__.columns.keys()) - {"id", "created_at"}
_REFUND_FIELDS: Final = frozenset(Refund.__table__.columns.keys()) - {"id", "created_at"}
_UNSETTLED_REFUND_STATUSES: Final = ("pending", "requires_action")


@dataclass(frozen=True)
class DueHold:
    """A hold whose time ran out (or a released booking whose checkout is still open)."""

    booking: Booking
    payment: Payment | None


@dataclass(frozen=True)
class EarningRow:
    """One settled payment of a coach, with what was refunded of it so far."""

    coach_id: int
    display_name: str
    currency: str
    amount_minor: int
    platform_fee_minor: int
    refunded_minor: int
    destination_account: str | None


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # ------------------------------------------------------------ payments

    async def add(self, **fields: Any) -> Payment:
        payment = Payment(**fields)
        self._session.add(payment)
        await self._session.flush()
        return payment

    async def get(self, payment_id: int) -> Payment | None:
        return await self._session.get(Payment, payment_id)

    async def update(self, payment: Payment, **fields: Any) -> Payment:
        """Set columns (status, amounts, provider ids) and flush."""
        unknown = set(fields) - _PAYMENT_FIELDS
        if unknown:
            raise AttributeError(f"payments has no updatable columns {sorted(unknown)}")
        for name, value in fields.items():
            setattr(payment, name, value)
        await self._session.flush()
        return payment

    async def for_booking(self, booking_id: int) -> Payment | None:
        """The booking's latest payment."""
        statement = (select(Payment).where(Payment.booking_id == booking_id)
                     .order_by(Payment.id.desc()).limit(1))
        return (await self._session.scalars(statement)).one_or_none()

    async def by_checkout_session(self, session_id: str) -> Payment | None:
        statement = select(Payment).where(Payment.checkout_session_id == session_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def by_payment_intent(self, payment_intent_id: str) -> Payment | None:
        statement = (select(Payment).where(Payment.payment_intent_id == payment_intent_id)
                     .order_by(Payment.id.desc()).limit(1))
        return (await self._session.scalars(statement)).one_or_none()

    async def of_series(self, series_id: str) -> list[Payment]:
        """The rows of a weekly series paid in one Checkout, first occurrence first."""
        statement = (select(Payment).where(Payment.series_id == series_id)
                     .order_by(Payment.id))
        return list(await self._session.scalars(statement))

    # ------------------------------------------------------------ refunds

    async def add_refund(self, **fields: Any) -> Refund:
        refund = Refund(**fields)
        self._session.add(refund)
        await self._session.flush()
        return refund

    async def get_refund(self, refund_id: int) -> Refund | None:
        return await self._session.get(Refund, refund_id)

    async def update_refund(self, refund: Refund, **fields: Any) -> Refund:
        unknown = set(fields) - _REFUND_FIELDS
        if unknown:
            raise AttributeError(f"refunds has no updatable columns {sorted(unknown)}")
        for name, value in fields.items():
            setattr(refund, name, value)
        await self._session.flush()
        return refund

    async def refund_by_provider_id(self, provider_refund_id: str) -> Refund | None:
        statement = select(Refund).where(Refund.provider_refund_id == provider_refund_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def refund_by_key(self, idempotency_key: str) -> Refund | None:
        statement = select(Refund).where(Refund.idempotency_key == idempotency_key)
        return (await self._session.scalars(statement)).one_or_none()

    async def refunds_of(self, payment_id: int) -> list[Refund]:
        statement = select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
        return list(await self._session.scalars(statement))

    async def refunds_of_booking(self, booking_id: int) -> list[Refund]:
        statement = (select(Refund).join(Payment, Payment.id == Refund.payment_id)
                     .where(Payment.booking_id == booking_id).order_by(Refund.id))
        return list(await self._session.scalars(statement))

    async def next_refund_number(self, booking_id: int) -> int:
        """1 for the booking's first refund made by Coachbot, then 2, ... (the `n` of the
        idempotency key `booking:{id}:refund:{n}`)."""
        prefix = f"booking:{booking_id}:refund:"
        statement = (select(func.count()).select_from(Refund)
                     .join(Payment, Payment.id == Refund.payment_id)
                     .where(Payment.booking_id == booking_id,
                            Refund.idempotency_key.startswith(prefix, autoescape=True)))
        return int(await self._session.scalar(statement) or 0) + 1

    async def unsent_refunds(self, limit: int) -> list[Refund]:
        """Refund rows the provider never acknowledged (an outage or a crash), oldest first."""
        statement = (select(Refund)
                     .where(Refund.provider_refund_id.is_(None), Refund.status == "pending")
                     .order_by(Refund.id).limit(limit))
        return list(await self._session.scalars(statement))

    async def unsettled_refunds(self, before: datetime, limit: int) -> list[Refund]:
        """Sent refunds still pending whose row has not changed since `before`."""
        statement = (select(Refund)
                     .where(Refund.provider_refund_id.is_not(None),
                            Refund.status.in_(_UNSETTLED_REFUND_STATUSES),
                            Refund.updated_at < before)
                     .order_by(Refund.updated_at, Refund.id).limit(limit))
        return list(await self._session.scalars(statement))

    # ------------------------------------------------------------ bookings and offerings

    async def lock_booking(self, booking_id: int) -> Booking | None:
        """The booking, freshly read and locked until the transaction ends (``FOR UPDATE`` on
        PostgreSQL; on SQLite the unit of work's ``BEGIN IMMEDIATE`` already serialises)."""
        statement = (select(Booking).where(Booking.id == booking_id).with_for_update()
                     .execution_options(populate_existing=True))
        return (await self._session.scalars(statement)).one_or_none()

    async def due_holds(self, now: datetime, limit: int) -> list[DueHold]:
        """Holds whose time ran out, and released bookings whose checkout is still pending
        (not yet expired at the provider, and no delayed payment processing), oldest first."""
        pending = and_(Payment.booking_id == Booking.id, Payment.status == "pending")
        statement = (
            select(Booking, Payment).outerjoin(Payment, pending)
            .where(or_(
                and_(Booking.status == "pending_payment", Booking.expires_at <= now),
                and_(Payment.id.is_not(None), Payment.payment_intent_id.is_(None),
                     Payment.checkout_session_id.is_not(None),
                     Booking.status != "pending_payment"),
            ))
            .order_by(Booking.expires_at, Booking.id).limit(limit)
        )
        return [DueHold(booking, payment)
                for booking, payment in (await self._session.execute(statement)).all()]

    async def addons(self, offering_id: int) -> list[OfferingAddon]:
        statement = (select(OfferingAddon).where(OfferingAddon.offering_id == offering_id)
                     .order_by(OfferingAddon.id))
        return list(await self._session.scalars(statement))

    # ------------------------------------------------------------ coaches' money

    async def set_coach_account(self, coach: Coach, account_id: str | None) -> Coach:
        """Link (or unlink) the coach's Stripe connected account."""
        coach.stripe_account_id = account_id
        await self._session.flush()
        return coach

    async def earning_rows(self, guild_id: int, *, since: datetime | None = None,
                           until: datetime | None = None) -> list[EarningRow]:
        """Settled payments of the server's coaches, with what succeeded in refunds of each."""
        refunded = (select(func.coalesce(func.sum(Refund.amount_minor), 0))
                    .where(Refund.payment_id == Payment.id, Refund.status == "succeeded")
                    .scalar_subquery())
        statement = (
            select(Coach.id, Coach.display_name, Payment.currency, Payment.amount_minor,
                   Payment.platform_fee_minor, refunded, Payment.destination_account)
            .join(Booking, Booking.id == Payment.booking_id)
            .join(Coach, Coach.id == Booking.coach_id)
            .where(Booking.guild_id == guild_id,
                   Payment.status.in_(("paid", "partially_refunded", "refunded")))
            .order_by(Coach.display_name, Coach.id, Payment.id)
        )
        if since is not None:
            statement = statement.where(Booking.start_at >= since)
        if until is not None:
            statement = statement.where(Booking.start_at < until)
        return [EarningRow(*row) for row in (await self._session.execute(statement)).all()]
