"""Per-person preferences that follow a Discord user across servers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, IanaTimezone, Snowflake
from storage.types import JSONDocument, utcnow


class MemberPreferences(Base):
    """What a member told the bot about themselves: the timezone `/book` shows times in
    (NULL: not known yet) and how they want reminders (NULL offsets: the offering's own)."""

    __tablename__ = "member_preferences"

    user_id: Mapped[Snowflake] = mapped_column(primary_key=True, autoincrement=False)
    timezone: Mapped[IanaTimezone | None]
    reminders_enabled: Mapped[bool] = mapped_column(default=True)
    reminder_offsets_minutes: Mapped[list[int] | None] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
