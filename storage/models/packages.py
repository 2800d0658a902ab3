"""Session packages: a bundle of N sessions of one offering sold at once, the credits a student
bought with it, and which booking spent (or got back) each credit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Currency, Money, Snowflake, Timestamps, currency_check
from storage.models.values import PURCHASE_STATUSES, one_of
from storage.types import utcnow


class Package(Timestamps, Base):
    """N sessions of an offering for one price, usable for `valid_days` after purchase.
    Removing a package deactivates it: purchases made with it keep pointing at it."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint("sessions > 0", name="sessions_positive"),
        CheckConstraint("price_minor > 0", name="price_minor_positive"),
        CheckConstraint("valid_days > 0", name="valid_days_positive"),
        currency_check(),
        Index(None, "offering_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="RESTRICT"))
    sessions: Mapped[int]
    price_minor: Mapped[Money]
    currency: Mapped[Currency]
    valid_days: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class PackagePurchase(Timestamps, Base):
    """One student's purchase of a package: paid through Checkout, then `credits` sessions of
    the offering until `expires_at`. Expired purchases stay on record."""

    __tablename__ = "package_purchases"
    __table_args__ = (
        CheckConstraint(one_of("status", PURCHASE_STATUSES), name="status"),
        CheckConstraint("credits > 0", name="credits_positive"),
        CheckConstraint("amount_minor >= 0", name="amount_minor_non_negative"),
        CheckConstraint(
            "platform_fee_minor >= 0 AND platform_fee_minor <= amount_minor",
            name="platform_fee_minor_range",
        ),
        CheckConstraint("status <> 'active' OR expires_at IS NOT NULL", name="active_expires"),
        currency_check(),
        Index(None, "guild_id", "student_id", "offering_id"),
        Index(None, "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="RESTRICT"))
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="RESTRICT"))
    student_id: Mapped[Snowflake]
    credits: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending_payment")
    amount_minor: Mapped[Money]
    currency: Mapped[Currency]
    platform_fee_minor: Mapped[Money] = mapped_column(default=0)
    destination_account: Mapped[str | None]
    checkout_session_id: Mapped[str | None] = mapped_column(unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    # The end of the credits' validity (set when the payment arrives).
    expires_at: Mapped[datetime | None]
    expiry_notice_sent_at: Mapped[datetime | None]


class CreditUse(Base):
    """A credit of a purchase spent on a booking; `returned_at` is set when a cancellation
    within the policy gives it back."""

    __tablename__ = "credit_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(
        ForeignKey("package_purchases.id", ondelete="RESTRICT"), index=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    returned_at: Mapped[datetime | None]
