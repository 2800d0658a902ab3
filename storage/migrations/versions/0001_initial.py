"""Initial schema: every table known at the start of the project.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Written with autogenerate, then cleaned. Types are spelled out here instead of importing the
application's column types, so this revision keeps describing the same schema as the models
evolve. PostgreSQL additionally gets the exclusion constraint that forbids double booking.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.types.UTCDateTime stores into this; JSON documents are JSONB on PostgreSQL.
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

BOOKING_STATUSES = (
    "'pending_payment', 'confirmed', 'in_progress', 'completed', 'cancelled', 'expired', "
    "'no_show_student', 'no_show_coach'"
)
ACTIVE_BOOKING_STATUSES = "'pending_payment', 'confirmed', 'in_progress'"
MINUTES_OF_DAY = "0 <= start_minute AND start_minute < end_minute AND end_minute <= 1440"


def _create_booking_exclusion_constraint() -> None:
    """No two active bookings of one coach may overlap unless they are seats of the same group
    slot (equal slot_key). PostgreSQL only; SQLite relies on BEGIN IMMEDIATE in the service."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_coach_time EXCLUDE USING gist ("
        "coach_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&, slot_key WITH <>) "
        f"WHERE (status IN ({ACTIVE_BOOKING_STATUSES}))"
    )


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("before", JSON_DOCUMENT, nullable=True),
        sa.Column("after", JSON_DOCUMENT, nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_guild_id_at"), "audit_log", ["guild_id", "at"])
    op.create_table(
        "coach_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('member', 'role')", name=op.f("ck_coach_grants_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_grants")),
        sa.UniqueConstraint(
            "guild_id", "kind", "target_id", name=op.f("uq_coach_grants_guild_id_kind_target_id")
        ),
    )
    op.create_table(
        "coaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("specialties", JSON_DOCUMENT, nullable=False),
        sa.Column("hourly_rate_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("years_experience", sa.Integer(), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("avatar_url", sa.String(length=1024), nullable=True),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=True),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("sessions_completed", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "hourly_rate_minor >= 0", name=op.f("ck_coaches_hourly_rate_minor_non_negative")
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = upper(currency)", name=op.f("ck_coaches_currency")
        ),
        sa.CheckConstraint("rating_count >= 0", name=op.f("ck_coaches_rating_count_non_negative")),
        sa.CheckConstraint(
            "rating_sum <= 5 * rating_count", name=op.f("ck_coaches_rating_sum_bound")
        ),
        sa.CheckConstraint("rating_sum >= 0", name=op.f("ck_coaches_rating_sum_non_negative")),
        sa.CheckConstraint(
            "sessions_completed >= 0", name=op.f("ck_coaches_sessions_completed_non_negative")
        ),
        sa.CheckConstraint(
            "years_experience >= 0", name=op.f("ck_coaches_years_experience_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaches")),
        sa.UniqueConstraint("guild_id", "user_id", name=op.f("uq_coaches_guild_id_user_id")),
    )
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("access_role_id", sa.BigInteger(), nullable=True),
        sa.Column("category_id", sa.BigInteger(), nullable=True),
        sa.Column("log_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("required_role_id", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("default_policy", JSON_DOCUMENT, nullable=False),
        sa.Column("platform_fee_percent", sa.Integer(), nullable=False),
        sa.Column("referral_commission_percent", sa.Integer(), nullable=False),
        sa.Column("channel_retention_days", sa.Integer(), nullable=False),
        sa.Column("jitsi_base_url", sa.String(length=1024), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "channel_retention_days >= 0",
            name=op.f("ck_guild_settings_channel_retention_days_non_negative"),
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = upper(currency)",
            name=op.f("ck_guild_settings_currency"),
        ),
        sa.CheckConstraint(
            "platform_fee_percent BETWEEN 0 AND 100",
            name=op.f("ck_guild_settings_platform_fee_percent_range"),
        ),
        sa.CheckConstraint(
            "referral_commission_percent BETWEEN 0 AND 100",
            name=op.f("ck_guild_settings_referral_commission_percent_range"),
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_settings")),
    )
    op.create_table(
        "processed_webhook_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_webhook_events")),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["coaches.id"],
            name=op.f("fk_schedules_coach_id_coaches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("coach_id", "name", name=op.f("uq_schedules_coach_id_name")),
    )
    op.create_table(
        "availability_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            MINUTES_OF_DAY,
            name=op.f("ck_availability_windows_minutes"),
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_windows_weekday")),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_availability_windows_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_windows")),
    )
    op.create_index(
        op.f("ix_availability_windows_schedule_id"), "availability_windows", ["schedule_id"]
    )
    op.create_table(
        "date_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            f"(start_minute IS NOT NULL AND end_minute IS NOT NULL AND {MINUTES_OF_DAY})",
            name=op.f("ck_date_overrides_minutes"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_date_overrides_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_overrides")),
    )
    op.create_index(
        op.f("ix_date_overrides_schedule_id_day"), "date_overrides", ["schedule_id", "day"]
    )
    op.create_table(
        "offerings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("draft_step", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("thumbnail_url", sa.String(length=1024), nullable=True),
        sa.Column("accent_colour", sa.Integer(), nullable=True),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("session_type", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("booking_window_days", sa.Integer(), nullable=False),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("max_per_student", sa.Integer(), nullable=True),
        sa.Column("policy", JSON_DOCUMENT, nullable=True),
        sa.Column("reminder_offsets_minutes", JSON_DOCUMENT, nullable=False),
        sa.Column("location_kind", sa.String(length=16), nullable=False),
        sa.Column("location_url", sa.String(length=1024), nullable=True),
        sa.Column("role_id", sa.BigInteger(), nullable=True),
        sa.Column("allow_promotion_codes", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "location_kind IN ('discord', 'generated', 'fixed')",
            name=op.f("ck_offerings_location_kind"),
        ),
        sa.CheckConstraint(
            "session_type IN ('video', 'audio', 'phone')", name=op.f("ck_offerings_session_type")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'unpublished', 'deleted')",
            name=op.f("ck_offerings_status"),
        ),
        sa.CheckConstraint(
            "accent_colour BETWEEN 0 AND 16777215", name=op.f("ck_offerings_accent_colour_range")
        ),
        sa.CheckConstraint(
            "booking_window_days >= 1", name=op.f("ck_offerings_booking_window_days_positive")
        ),
        sa.CheckConstraint(
            "buffer_after_minutes >= 0", name=op.f("ck_offerings_buffer_after_minutes_non_negative")
        ),
        sa.CheckConstraint(
            "buffer_before_minutes >= 0",
            name=op.f("ck_offerings_buffer_before_minutes_non_negative"),
        ),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_offerings_capacity_positive")),
        sa.CheckConstraint("draft_step >= 0", name=op.f("ck_offerings_draft_step_non_negative")),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 15 AND 480", name=op.f("ck_offerings_duration_minutes_range")
        ),
        sa.CheckConstraint(
            "interval_minutes BETWEEN 5 AND 720", name=op.f("ck_offerings_interval_minutes_range")
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = upper(currency)",
            name=op.f("ck_offerings_currency"),
        ),
        sa.CheckConstraint("max_per_day >= 1", name=op.f("ck_offerings_max_per_day_positive")),
        sa.CheckConstraint(
            "max_per_student >= 1", name=op.f("ck_offerings_max_per_student_positive")
        ),
        sa.CheckConstraint(
            "min_notice_minutes >= 0", name=op.f("ck_offerings_min_notice_minutes_non_negative")
        ),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_offerings_price_minor_non_negative")),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["coaches.id"],
            name=op.f("fk_offerings_coach_id_coaches"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_offerings_schedule_id_schedules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offerings")),
    )
    op.create_index(op.f("ix_offerings_coach_id"), "offerings", ["coach_id"])
    op.create_index(op.f("ix_offerings_guild_id_status"), "offerings", ["guild_id", "status"])
    op.create_index(op.f("ix_offerings_schedule_id"), "offerings", ["schedule_id"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_at", TIMESTAMP, nullable=False),
        sa.Column("end_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("slot_key", sa.String(length=64), nullable=False),
        sa.Column("answers", JSON_DOCUMENT, nullable=False),
        sa.Column("text_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("join_url", sa.String(length=1024), nullable=True),
        sa.Column("reschedule_count", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status <> 'pending_payment' OR expires_at IS NOT NULL",
            name=op.f("ck_bookings_hold_expires"),
        ),
        sa.CheckConstraint(
            f"status IN ({BOOKING_STATUSES})",
            name=op.f("ck_bookings_status"),
        ),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_bookings_time_range")),
        sa.CheckConstraint(
            "reschedule_count >= 0", name=op.f("ck_bookings_reschedule_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["coaches.id"],
            name=op.f("fk_bookings_coach_id_coaches"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_bookings_offering_id_offerings"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index(op.f("ix_bookings_coach_id_start_at"), "bookings", ["coach_id", "start_at"])
    op.create_index(
        op.f("ix_bookings_offering_id_start_at"), "bookings", ["offering_id", "start_at"]
    )
    op.create_index(op.f("ix_bookings_slot_key"), "bookings", ["slot_key"])
    op.create_index(op.f("ix_bookings_status_expires_at"), "bookings", ["status", "expires_at"])
    op.create_index(op.f("ix_bookings_student_id_start_at"), "bookings", ["student_id", "start_at"])
    _create_booking_exclusion_constraint()
    op.create_table(
        "offering_addons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("extra_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "extra_minutes >= 0", name=op.f("ck_offering_addons_extra_minutes_non_negative")
        ),
        sa.CheckConstraint(
            "price_minor >= 0", name=op.f("ck_offering_addons_price_minor_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_offering_addons_offering_id_offerings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offering_addons")),
    )
    op.create_index(op.f("ix_offering_addons_offering_id"), "offering_addons", ["offering_id"])
    op.create_table(
        "offering_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("style", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "style IN ('short', 'paragraph')", name=op.f("ck_offering_questions_style")
        ),
        sa.CheckConstraint(
            "position >= 0", name=op.f("ck_offering_questions_position_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_offering_questions_offering_id_offerings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offering_questions")),
        sa.UniqueConstraint(
            "offering_id", "position", name=op.f("uq_offering_questions_offering_id_position")
        ),
    )
    op.create_table(
        "booking_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            f"from_status IS NULL OR from_status IN ({BOOKING_STATUSES})",
            name=op.f("ck_booking_status_history_from_status"),
        ),
        sa.CheckConstraint(
            f"to_status IN ({BOOKING_STATUSES})",
            name=op.f("ck_booking_status_history_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_status_history_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_status_history")),
    )
    op.create_index(
        op.f("ix_booking_status_history_booking_id"), "booking_status_history", ["booking_id"]
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("uploader_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "kind IN ('notes', 'outline', 'homework', 'manuscript', 'recording', 'other')",
            name=op.f("ck_materials_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_materials_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
    )
    op.create_index(op.f("ix_materials_booking_id"), "materials", ["booking_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("platform_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("destination_account", sa.String(length=255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'expired', 'refunded', 'partially_refunded')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_payments_amount_minor_non_negative")),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = upper(currency)", name=op.f("ck_payments_currency")
        ),
        sa.CheckConstraint(
            "platform_fee_minor >= 0 AND platform_fee_minor <= amount_minor",
            name=op.f("ck_payments_platform_fee_minor_range"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_payments_booking_id_bookings"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("checkout_session_id", name=op.f("uq_payments_checkout_session_id")),
    )
    op.create_index(op.f("ix_payments_booking_id"), "payments", ["booking_id"])
    op.create_index(op.f("ix_payments_payment_intent_id"), "payments", ["payment_intent_id"])
    op.create_table(
        "provisioning_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_provisioning_steps_status")
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_provisioning_steps_attempts_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_provisioning_steps_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_steps")),
        sa.UniqueConstraint(
            "booking_id", "step", name=op.f("uq_provisioning_steps_booking_id_step")
        ),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_ratings_stars")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_ratings_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["coaches.id"],
            name=op.f("fk_ratings_coach_id_coaches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_ratings_booking_id")),
    )
    op.create_index(op.f("ix_ratings_coach_id"), "ratings", ["coach_id"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("kind IN ('reminder', 'start')", name=op.f("ck_reminders_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'skipped', 'failed')", name=op.f("ck_reminders_status")
        ),
        sa.CheckConstraint(
            "offset_minutes >= 0", name=op.f("ck_reminders_offset_minutes_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_reminders_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "booking_id",
            "recipient_id",
            "kind",
            "offset_minutes",
            name=op.f("uq_reminders_booking_id_recipient_id_kind_offset_minutes"),
        ),
    )
    op.create_index(op.f("ix_reminders_status_due_at"), "reminders", ["status", "due_at"])
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("had_before", sa.Boolean(), nullable=False),
        sa.Column("granted_at", TIMESTAMP, nullable=False),
        sa.Column("removed_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_role_grants_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
    )
    op.create_index(op.f("ix_role_grants_booking_id"), "role_grants", ["booking_id"])
    op.create_index(
        op.f("ix_role_grants_guild_id_user_id_role_id"),
        "role_grants",
        ["guild_id", "user_id", "role_id"],
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')",
            name=op.f("ck_refunds_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount_minor_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_refunds_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
        sa.UniqueConstraint("provider_refund_id", name=op.f("uq_refunds_provider_refund_id")),
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"])


def downgrade() -> None:
    op.drop_table("refunds")
    op.drop_table("role_grants")
    op.drop_table("reminders")
    op.drop_table("ratings")
    op.drop_table("provisioning_steps")
    op.drop_table("payments")
    op.drop_table("materials")
    op.drop_table("booking_status_history")
    op.drop_table("offering_questions")
    op.drop_table("offering_addons")
    op.drop_table("bookings")
    op.drop_table("offerings")
    op.drop_table("date_overrides")
    op.drop_table("availability_windows")
    op.drop_table("schedules")
    op.drop_table("processed_webhook_events")
    op.drop_table("guild_settings")
    op.drop_table("coaches")
    op.drop_table("coach_grants")
    op.drop_table("audit_log")
