"""Per-server tables: settings, who may act as a coach, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Currency, Snowflake, Timestamps, Url, currency_check
from storage.models.values import COACH_GRANT_KINDS, DEFAULT_CURRENCY, default_policy, one_of
from storage.types import JSONDocument, utcnow


class GuildSettings(Timestamps, Base):
    """One row per Discord server: its roles, channels, currency and default policy."""

    __tablename__ = "guild_settings"
    __table_args__ = (
        currency_check(),
        CheckConstraint(
            "platform_fee_percent BETWEEN 0 AND 100", name="platform_fee_percent_range"
        ),
        CheckConstraint(
            "referral_commission_percent BETWEEN 0 AND 100",
            name="referral_commission_percent_range",
        ),
        CheckConstraint("channel_retention_days >= 0", name="channel_retention_days_non_negative"),
    )

    guild_id: Mapped[Snowflake] = mapped_column(primary_key=True, autoincrement=False)
    access_role_id: Mapped[Snowflake | None]
    category_id: Mapped[Snowflake | None]
    log_channel_id: Mapped[Snowflake | None]
    required_role_id: Mapped[Snowflake | None]
    currency: Mapped[Currency] = mapped_column(default=DEFAULT_CURRENCY)
    # scheduling.policy.Policy.to_dict(): {"tiers": [{"min_notice_hours", "refund_percent"}],
    # "max_reschedules", "reschedule_min_notice_hours"}.
    default_policy: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=default_policy)
    platform_fee_percent: Mapped[int] = mapped_column(default=0)
    referral_commission_percent: Mapped[int] = mapped_column(default=0)
    channel_retention_days: Mapped[int] = mapped_column(default=7)
    jitsi_base_url: Mapped[Url | None]


class CoachGrant(Base):
    """Permission to act as a coach, given to a member or to everyone holding a role."""

    __tablename__ = "coach_grants"
    __table_args__ = (
        UniqueConstraint("guild_id", "kind", "target_id"),
        CheckConstraint(one_of("kind", COACH_GRANT_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[Snowflake]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who changed what in a server's configuration, with before/after snapshots."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "guild_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    actor_id: Mapped[Snowflake]
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    at: Mapped[datetime] = mapped_column(default=utcnow)
