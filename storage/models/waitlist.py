"""The waitlist: students waiting for a coach's time to free up (see `scheduling/waitlist.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduling.waitlist import WAITLIST_STATUSES
from storage.models.base import Base, Snowflake
from storage.models.values import one_of
from storage.types import utcnow


class WaitlistEntry(Base):
    """One student waiting for a time of a coach (of one offering, or any when NULL) in the
    next `days` days. While `offered`, the time `offered_start` (of `offered_offering_id`) is
    kept for them until `offer_expires_at`."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(one_of("status", WAITLIST_STATUSES), name="status"),
        CheckConstraint("days > 0", name="days_positive"),
        Index(None, "coach_id", "status", "created_at"),
        Index(None, "guild_id", "student_id"),
        Index(None, "status", "offer_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="CASCADE"))
    offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"))
    student_id: Mapped[Snowflake]
    days: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    offered_start: Mapped[datetime | None]
    offered_offering_id: Mapped[int | None] = mapped_column(
        ForeignKey("offerings.id", ondelete="SET NULL"))
    offer_expires_at: Mapped[datetime | None]
