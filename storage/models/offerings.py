"""What coaches sell: offerings, their intake questions, uploaded thumbnails and paid add-ons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduling.offering_fields import IMAGE_TYPES, THUMBNAIL_MAX_BYTES
from storage.models.base import (
    Base,
    Currency,
    LongText,
    Money,
    ShortText,
    Snowflake,
    Timestamps,
    Url,
    currency_check,
    non_negative,
)
from storage.models.values import (
    DEFAULT_CURRENCY,
    LOCATION_KINDS,
    OFFERING_STATUSES,
    QUESTION_STYLES,
    SESSION_TYPES,
    default_reminder_offsets,
    one_of,
)
from storage.types import JSONDocument, utcnow


class Offering(Timestamps, Base):
    """A bookable session type. Drafts keep their wizard step so editing survives a restart."""

    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint(one_of("status", OFFERING_STATUSES), name="status"),
        CheckConstraint(one_of("session_type", SESSION_TYPES), name="session_type"),
        CheckConstraint(one_of("location_kind", LOCATION_KINDS), name="location_kind"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 480", name="duration_minutes_range"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("interval_minutes BETWEEN 5 AND 720", name="interval_minutes_range"),
        CheckConstraint("booking_window_days >= 1", name="booking_window_days_positive"),
        CheckConstraint("max_per_day >= 1", name="max_per_day_positive"),
        CheckConstraint("max_per_student >= 1", name="max_per_student_positive"),
        CheckConstraint("accent_colour BETWEEN 0 AND 16777215", name="accent_colour_range"),
        currency_check(),
        *non_negative(
            "draft_step",
            "price_minor",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "min_notice_minutes",
        ),
        Index(None, "guild_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="RESTRICT"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="draft")
    draft_step: Mapped[int] = mapped_column(default=0)
    title: Mapped[ShortText]
    description: Mapped[LongText] = mapped_column(default="")
    thumbnail_url: Mapped[Url | None]
    accent_colour: Mapped[int | None]
    price_minor: Mapped[Money] = mapped_column(default=0)
    currency: Mapped[Currency] = mapped_column(default=DEFAULT_CURRENCY)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    session_type: Mapped[str] = mapped_column(String(16), default="video")
    capacity: Mapped[int] = mapped_column(default=1)
    interval_minutes: Mapped[int | None]
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_minutes: Mapped[int] = mapped_column(default=120)
    booking_window_days: Mapped[int] = mapped_column(default=60)
    max_per_day: Mapped[int | None]
    max_per_student: Mapped[int | None]
    # NULL inherits the server's guild_settings.default_policy.
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    reminder_offsets_minutes: Mapped[list[int]] = mapped_column(
        JSONDocument, default=default_reminder_offsets
    )
    location_kind: Mapped[str] = mapped_column(String(16), default="discord")
    location_url: Mapped[Url | None]
    role_id: Mapped[Snowflake | None]
    allow_promotion_codes: Mapped[bool] = mapped_column(default=False)


class OfferingQuestion(Base):
    """A question asked in the booking modal (``position`` orders them)."""

    __tablename__ = "offering_questions"
    __table_args__ = (
        UniqueConstraint("offering_id", "position"),
        CheckConstraint(one_of("style", QUESTION_STYLES), name="style"),
        *non_negative("position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[ShortText]
    style: Mapped[str] = mapped_column(String(16), default="short")
    required: Mapped[bool] = mapped_column(default=True)


class OfferingThumbnail(Base):
    """A picture the coach uploaded for an offering's card, kept here because Discord's
    attachment links expire. Base64 text (at most 1 MiB of image) so that both backends store
    it alike; the card sends it as a file and points the embed at ``attachment://``.
    ``sha256`` names the file, so an unchanged picture is not uploaded again."""

    __tablename__ = "offering_thumbnails"
    __table_args__ = (
        CheckConstraint(one_of("content_type", tuple(IMAGE_TYPES)), name="content_type"),
        CheckConstraint(f"size_bytes BETWEEN 1 AND {THUMBNAIL_MAX_BYTES}",
                        name="size_bytes_range"),
    )

    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data_base64: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfferingAddon(Base):
    """An optional extra a student can buy with an offering (more time, a review, ...)."""

    __tablename__ = "offering_addons"
    __table_args__ = (*non_negative("price_minor", "extra_minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[ShortText]
    price_minor: Mapped[Money]
    extra_minutes: Mapped[int] = mapped_column(default=0)
