"""Referral codes and what the bookings made with them earned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Payment, Refund
from storage.models.referrals import ReferralCode
from storage.repositories.dialect_sql import dialect_name, inserted_count

# Payments that took money (whatever was refunded of them since).
_SETTLED_PAYMENT_STATUSES: Final = ("paid", "partially_refunded", "refunded")
# Refunds that take (or took) money back: scheduling.payments._COUNTED_REFUND_STATUSES.
_COUNTED_REFUND_STATUSES: Final = ("pending", "requires_action", "succeeded")


@dataclass(frozen=True)
class ReferredPaymentRow:
    """One settled payment of a booking made with someone's referral code."""

    referrer_id: int
    referral_percent: int
    currency: str
    amount_minor: int
    refunded_minor: int
    status: str


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def code_of(self, guild_id: int, user_id: int) -> ReferralCode | None:
        """The member's code on this server, if they have one."""
        statement = select(ReferralCode).where(ReferralCode.guild_id == guild_id,
                                               ReferralCode.user_id == user_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def by_code(self, code: str) -> ReferralCode | None:
        """The code row (of any server), matched exactly."""
        statement = select(ReferralCode).where(ReferralCode.code == code)
        return (await self._session.scalars(statement)).one_or_none()

    async def add_code(self, guild_id: int, user_id: int, code: str) -> bool:
        """Insert the member's code; False (nothing written, transaction still usable) when the
        code is taken or the member already has one on this server."""
        insert = (postgresql.insert if dialect_name(self._session) == "postgresql"
                  else sqlite.insert)
        statement = (insert(ReferralCode).values(guild_id=guild_id, user_id=user_id, code=code)
                     .on_conflict_do_nothing())  # any unique constraint: code or member
        return inserted_count(await self._session.execute(statement)) == 1

    async def referred_payments(self, guild_id: int, *, referrer_id: int | None = None
                                ) -> list[ReferredPaymentRow]:
        """Settled payments of the server's bookings that have a referrer (only `referrer_id`'s
        when given), with what counted refunds took back of each."""
        refunded = (select(func.coalesce(func.sum(Refund.amount_minor), 0))
                    .where(Refund.payment_id == Payment.id,
                           Refund.status.in_(_COUNTED_REFUND_STATUSES))
                    .scalar_subquery())
        statement = (
            select(Booking.referrer_id, func.coalesce(Booking.referral_percent, 0),
                   Payment.currency, Payment.amount_minor, refunded, Payment.status)
            .join(Booking, Booking.id == Payment.booking_id)
            .where(Booking.guild_id == guild_id, Booking.referrer_id.is_not(None),
                   Payment.status.in_(_SETTLED_PAYMENT_STATUSES))
            .order_by(Booking.referrer_id, Payment.id)
        )
        if referrer_id is not None:
            statement = statement.where(Booking.referrer_id == referrer_id)
        return [ReferredPaymentRow(*row) for row in (await self._session.execute(statement)).all()]
