"""Bookings, their status history and the slot keys that let group seats share a time range."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, literal_column, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, LongText, Snowflake, Timestamps, Url
from storage.models.values import ACTIVE_BOOKING_STATUSES, BOOKING_STATUSES, one_of
from storage.types import JSONDocument, utcnow

EXCLUSION_CONSTRAINT_NAME = "ex_bookings_coach_time"


def solo_slot_key() -> str:
    """A slot key unique to one booking: it overlaps nothing else of its coach."""
    return f"b:{uuid.uuid4().hex}"


class Booking(Timestamps, Base):
    """A student's seat in a session with a coach, from hold to completion.

    No double booking: on PostgreSQL the exclusion constraint refuses two active bookings of a
    coach whose ``[start_at, end_at)`` ranges overlap unless they share a ``slot_key`` (seats of
    one group session). On SQLite the booking service checks and inserts inside ``BEGIN
    IMMEDIATE``.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(one_of("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("end_at > start_at", name="time_range"),
        CheckConstraint("reschedule_count >= 0", name="reschedule_count_non_negative"),
        CheckConstraint(
            "status <> 'pending_payment' OR expires_at IS NOT NULL", name="hold_expires"
        ),
        Index(None, "coach_id", "start_at"),
        Index(None, "student_id", "start_at"),
        Index(None, "offering_id", "start_at"),
        Index(None, "status", "expires_at"),
        Index(None, "slot_key"),
        Index(None, "series_id"),
        Index(None, "referrer_id"),
        ExcludeConstraint(
            ("coach_id", "="),
            (
                func.tstzrange(
                    literal_column("start_at"), literal_column("end_at"), literal_column("'[)'")
                ),
                "&&",
            ),
            ("slot_key", "<>"),
            name=EXCLUSION_CONSTRAINT_NAME,
            using="gist",
            where=text(one_of("status", ACTIVE_BOOKING_STATUSES)),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="RESTRICT"))
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="RESTRICT"))
    student_id: Mapped[Snowflake]
    status: Mapped[str] = mapped_column(String(20), default="pending_payment")
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    # When an unpaid hold (status pending_payment) is released.
    expires_at: Mapped[datetime | None]
    slot_key: Mapped[str] = mapped_column(String(64), default=solo_slot_key)
    # [{"label": str, "answer": str}, ...] from the offering's questions.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    text_channel_id: Mapped[Snowflake | None]
    voice_channel_id: Mapped[Snowflake | None]
    join_url: Mapped[Url | None]
    reschedule_count: Mapped[int] = mapped_column(default=0)
    # Occurrences of one weekly series share it (`scheduling/series.py`).
    series_id: Mapped[str | None] = mapped_column(String(64))
    # The member whose referral code the student gave, and the server's commission then.
    referrer_id: Mapped[Snowflake | None]
    referral_percent: Mapped[int | None]


class BookingStatusChange(Base):
    """One transition of a booking's status, with who caused it and why."""

    __tablename__ = "booking_status_history"
    __table_args__ = (
        CheckConstraint(
            f"from_status IS NULL OR {one_of('from_status', BOOKING_STATUSES)}", name="from_status"
        ),
        CheckConstraint(one_of("to_status", BOOKING_STATUSES), name="to_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[Snowflake | None]
    reason: Mapped[LongText | None]
