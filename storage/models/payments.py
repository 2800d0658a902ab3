"""Money movements (payments and refunds, integer minor units) and webhook deduplication."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Currency, LongText, Money, Timestamps, currency_check
from storage.models.values import PAYMENT_STATUSES, REFUND_STATUSES, one_of
from storage.types import utcnow


class Payment(Timestamps, Base):
    """A charge for a booking (a Stripe Checkout session and its payment intent)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("checkout_session_id"),
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("amount_minor >= 0", name="amount_minor_non_negative"),
        CheckConstraint(
            "platform_fee_minor >= 0 AND platform_fee_minor <= amount_minor",
            name="platform_fee_minor_range",
        ),
        currency_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32), default="stripe")
    checkout_session_id: Mapped[str | None]
    payment_intent_id: Mapped[str | None] = mapped_column(index=True)
    amount_minor: Mapped[Money]
    currency: Mapped[Currency]
    status: Mapped[str] = mapped_column(String(32), default="pending")
    platform_fee_minor: Mapped[Money] = mapped_column(default=0)
    # The coach's connected account that receives the transfer, if any.
    destination_account: Mapped[str | None]
    # A weekly series paid in one Checkout: one row per occurrence (its share), all with the
    # series id; the first occurrence's row carries the Checkout Session.
    series_id: Mapped[str | None] = mapped_column(String(64), index=True)


class Refund(Timestamps, Base):
    """A (partial) refund of a payment; ``idempotency_key`` makes the provider call safe to
    retry."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("provider_refund_id"),
        UniqueConstraint("idempotency_key"),
        CheckConstraint(one_of("status", REFUND_STATUSES), name="status"),
        CheckConstraint("amount_minor > 0", name="amount_minor_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    provider_refund_id: Mapped[str | None]
    idempotency_key: Mapped[str]
    amount_minor: Mapped[Money]
    status: Mapped[str] = mapped_column(String(32), default="pending")
    reason: Mapped[LongText | None]


class ProcessedWebhookEvent(Base):
    """A provider event id already handled; inserted in the same transaction as its effect."""

    __tablename__ = "processed_webhook_events"

    event_id: Mapped[str] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
