"""Coaches and their availability: schedules, weekly windows and date overrides."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import (
    Base,
    Currency,
    IanaTimezone,
    LongText,
    Money,
    ShortText,
    Snowflake,
    Timestamps,
    Url,
    currency_check,
    non_negative,
)
from storage.models.values import DEFAULT_CURRENCY
from storage.types import JSONDocument

_MINUTES_OF_DAY = "0 <= start_minute AND start_minute < end_minute AND end_minute <= 1440"


class Coach(Timestamps, Base):
    """A member who sells sessions in one server, with a public profile and aggregate stats."""

    __tablename__ = "coaches"
    __table_args__ = (
        UniqueConstraint("guild_id", "user_id"),
        currency_check(),
        *non_negative(
            "hourly_rate_minor",
            "years_experience",
            "rating_sum",
            "rating_count",
            "sessions_completed",
        ),
        CheckConstraint("rating_sum <= 5 * rating_count", name="rating_sum_bound"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    user_id: Mapped[Snowflake]
    display_name: Mapped[ShortText]
    bio: Mapped[LongText] = mapped_column(default="")
    specialties: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    hourly_rate_minor: Mapped[Money | None]
    currency: Mapped[Currency] = mapped_column(default=DEFAULT_CURRENCY)
    years_experience: Mapped[int | None]
    credentials: Mapped[LongText] = mapped_column(default="")
    timezone: Mapped[IanaTimezone] = mapped_column(default="UTC")
    avatar_url: Mapped[Url | None]
    stripe_account_id: Mapped[str | None]
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    sessions_completed: Mapped[int] = mapped_column(default=0)


class Schedule(Base):
    """A named set of weekly hours in its own IANA timezone; offerings point at one."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("coach_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="CASCADE"))
    name: Mapped[ShortText]
    timezone: Mapped[IanaTimezone]
    is_default: Mapped[bool] = mapped_column(default=False)


class AvailabilityWindow(Base):
    """Recurring weekly hours: ``weekday`` (0 = Monday) from ``start_minute`` to ``end_minute``
    after local midnight, in the schedule's timezone."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(_MINUTES_OF_DAY, name="minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]


class DateOverride(Base):
    """Hours that replace a calendar day's weekly hours; one row per window, and a row with
    NULL minutes marks the whole day off."""

    __tablename__ = "date_overrides"
    __table_args__ = (
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            f"(start_minute IS NOT NULL AND end_minute IS NOT NULL AND {_MINUTES_OF_DAY})",
            name="minutes",
        ),
        Index(None, "schedule_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    day: Mapped[date]
    start_minute: Mapped[int | None]
    end_minute: Mapped[int | None]
