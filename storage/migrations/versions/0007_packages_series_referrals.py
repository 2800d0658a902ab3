"""Packages and credits, weekly series paid at once, referral codes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
CURRENCY_CHECK = "length(currency) = 3 AND currency = upper(currency)"
PURCHASE_STATUSES = "status IN ('pending_payment', 'active', 'failed', 'expired', 'refunded')"


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("sessions > 0", name=op.f("ck_packages_sessions_positive")),
        sa.CheckConstraint("price_minor > 0", name=op.f("ck_packages_price_minor_positive")),
        sa.CheckConstraint("valid_days > 0", name=op.f("ck_packages_valid_days_positive")),
        sa.CheckConstraint(CURRENCY_CHECK, name=op.f("ck_packages_currency")),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"],
                                name=op.f("fk_packages_offering_id_offerings"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    op.create_index(op.f("ix_packages_offering_id_active"), "packages", ["offering_id", "active"])

    op.create_table(
        "package_purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("platform_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("destination_account", sa.String(length=255), nullable=True),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("paid_at", TIMESTAMP, nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("expiry_notice_sent_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(PURCHASE_STATUSES, name=op.f("ck_package_purchases_status")),
        sa.CheckConstraint("credits > 0", name=op.f("ck_package_purchases_credits_positive")),
        sa.CheckConstraint("amount_minor >= 0",
                           name=op.f("ck_package_purchases_amount_minor_non_negative")),
        sa.CheckConstraint("platform_fee_minor >= 0 AND platform_fee_minor <= amount_minor",
                           name=op.f("ck_package_purchases_platform_fee_minor_range")),
        sa.CheckConstraint("status <> 'active' OR expires_at IS NOT NULL",
                           name=op.f("ck_package_purchases_active_expires")),
        sa.CheckConstraint(CURRENCY_CHECK, name=op.f("ck_package_purchases_currency")),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"],
                                name=op.f("fk_package_purchases_package_id_packages"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"],
                                name=op.f("fk_package_purchases_offering_id_offerings"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_purchases")),
        sa.UniqueConstraint("checkout_session_id",
                            name=op.f("uq_package_purchases_checkout_session_id")),
    )
    op.create_index(op.f("ix_package_purchases_guild_id_student_id_offering_id"),
                    "package_purchases", ["guild_id", "student_id", "offering_id"])
    op.create_index(op.f("ix_package_purchases_status_expires_at"), "package_purchases",
                    ["status", "expires_at"])
    op.create_index(op.f("ix_package_purchases_payment_intent_id"), "package_purchases",
                    ["payment_intent_id"])

    op.create_table(
        "credit_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=False),
        sa.Column("returned_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["purchase_id"], ["package_purchases.id"],
                                name=op.f("fk_credit_uses_purchase_id_package_purchases"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_credit_uses_booking_id_bookings"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_uses")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_credit_uses_booking_id")),
    )
    op.create_index(op.f("ix_credit_uses_purchase_id"), "credit_uses", ["purchase_id"])

    op.create_table(
        "referral_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
        sa.UniqueConstraint("guild_id", "user_id", name=op.f("uq_referral_codes_guild_id_user_id")),
    )

    op.add_column("bookings", sa.Column("referrer_id", sa.BigInteger(), nullable=True))
    op.add_column("bookings", sa.Column("referral_percent", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_bookings_series_id"), "bookings", ["series_id"])
    op.create_index(op.f("ix_bookings_referrer_id"), "bookings", ["referrer_id"])
    op.add_column("payments", sa.Column("series_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_payments_series_id"), "payments", ["series_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_series_id"), table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("series_id")
    op.drop_index(op.f("ix_bookings_referrer_id"), table_name="bookings")
    op.drop_index(op.f("ix_bookings_series_id"), table_name="bookings")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("referral_percent")
        batch.drop_column("referrer_id")
    op.drop_table("referral_codes")
    op.drop_index(op.f("ix_credit_uses_purchase_id"), table_name="credit_uses")
    op.drop_table("credit_uses")
    op.drop_index(op.f("ix_package_purchases_payment_intent_id"), table_name="package_purchases")
    op.drop_index(op.f("ix_package_purchases_status_expires_at"), table_name="package_purchases")
    op.drop_index(op.f("ix_package_purchases_guild_id_student_id_offering_id"),
                  table_name="package_purchases")
    op.drop_table("package_purchases")
    op.drop_index(op.f("ix_packages_offering_id_active"), table_name="packages")
    op.drop_table("packages")
