"""Timed work of a session after it is confirmed, other than reminders (see `reminders`):
status changes at the start and end, closing the channel, the rating request, transcripts and
deleting the channel. Claimed like reminders so that only one process runs each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduling.lifecycle import TASK_KINDS, TASK_STATUSES
from storage.models.base import Base, LongText
from storage.models.values import one_of


class SessionTask(Base):
    """One timed step of a booking's lifecycle (``kind``), due at ``due_at``."""

    __tablename__ = "session_tasks"
    __table_args__ = (
        UniqueConstraint("booking_id", "kind"),
        CheckConstraint(one_of("kind", TASK_KINDS), name="kind"),
        CheckConstraint(one_of("status", TASK_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index(None, "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # How it was done, or why it was skipped or failed (last error while it is retried).
    detail: Mapped[LongText | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
