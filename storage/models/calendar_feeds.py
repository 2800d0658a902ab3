"""Private calendar feeds: one secret URL per member and server (only its hash is stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, Snowflake
from storage.types import utcnow


class CalendarFeed(Base):
    """A member's feed token (SHA-256 hex of the secret in the URL); rotating replaces it."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (UniqueConstraint("guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    user_id: Mapped[Snowflake]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
