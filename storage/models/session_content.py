"""What a session leaves behind: shared materials and the student's rating."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, LongText, Snowflake, Timestamps, Url
from storage.models.values import MATERIAL_KINDS, one_of
from storage.types import utcnow


class Material(Base):
    """A note, outline, homework, recording link, ... attached to a booking."""

    __tablename__ = "materials"
    __table_args__ = (CheckConstraint(one_of("kind", MATERIAL_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[Snowflake]
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[Url | None]
    body: Mapped[LongText | None]
    message_id: Mapped[Snowflake | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Timestamps, Base):
    """A student's 1 to 5 star rating of one booking (at most one per booking)."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("booking_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    student_id: Mapped[Snowflake]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coaches.id", ondelete="CASCADE"), index=True)
    stars: Mapped[int]
    feedback: Mapped[LongText | None]
    show_name: Mapped[bool] = mapped_column(default=False)
