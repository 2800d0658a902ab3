"""Records of work done outside the database, so retries neither repeat nor lose it:
reminder DMs, Discord provisioning steps and the roles the bot granted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, LongText, Snowflake
from storage.models.values import (
    PROVISIONING_STATUSES,
    REMINDER_KINDS,
    REMINDER_STATUSES,
    one_of,
)
from storage.types import utcnow


class Reminder(Base):
    """A DM due at ``due_at`` to one participant; claimed by a process before it is sent."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("booking_id", "recipient_id", "kind", "offset_minutes"),
        CheckConstraint(one_of("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint(one_of("status", REMINDER_STATUSES), name="status"),
        CheckConstraint("offset_minutes >= 0", name="offset_minutes_non_negative"),
        Index(None, "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    recipient_id: Mapped[Snowflake]
    kind: Mapped[str] = mapped_column(String(16))
    offset_minutes: Mapped[int]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]


class ProvisioningStep(Base):
    """One idempotent Discord side effect of a booking ('role', 'text_channel', 'dm_student',
    ...): done once, its result id kept, failures counted."""

    __tablename__ = "provisioning_steps"
    __table_args__ = (
        UniqueConstraint("booking_id", "step"),
        CheckConstraint(one_of("status", PROVISIONING_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    external_id: Mapped[Snowflake | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[LongText | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoleGrant(Base):
    """A role the bot gave a member. ``had_before`` means the member already held it, so the
    bot must not remove it."""

    __tablename__ = "role_grants"
    __table_args__ = (Index(None, "guild_id", "user_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    user_id: Mapped[Snowflake]
    role_id: Mapped[Snowflake]
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    had_before: Mapped[bool] = mapped_column(default=False)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
