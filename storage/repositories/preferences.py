"""Member preferences (timezone, reminder choices), one row per Discord user."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MemberPreferences
from storage.repositories.dialect_sql import insert_ignoring_conflict

_UPDATABLE = frozenset({"timezone", "reminders_enabled", "reminder_offsets_minutes"})


class PreferencesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> MemberPreferences | None:
        """The member's preferences, or None when they never set any."""
        return await self._session.get(MemberPreferences, user_id)

    async def timezone_of(self, user_id: int) -> str | None:
        preferences = await self.get(user_id)
        return preferences.timezone if preferences is not None else None

    async def get_or_create(self, user_id: int) -> MemberPreferences:
        """The member's row, made with defaults if missing (a concurrent creator is fine: the
        insert skips an existing row instead of failing)."""
        preferences = await self.get(user_id)
        if preferences is not None:
            return preferences
        statement = insert_ignoring_conflict(self._session, MemberPreferences, ["user_id"])
        await self._session.execute(statement.values(user_id=user_id))
        preferences = await self.get(user_id)
        if preferences is None:
            raise RuntimeError(f"member_preferences row for {user_id} vanished after insert")
        return preferences

    async def update(self, user_id: int, **values: Any) -> MemberPreferences:
        """Set preferences (creating the row first) and flush. A list of reminder offsets is
        stored as a new list, never mutated in place."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"member_preferences has no updatable columns {sorted(unknown)}")
        preferences = await self.get_or_create(user_id)
        for key, value in values.items():
            setattr(preferences, key, list(value) if isinstance(value, list | tuple) else value)
        await self._session.flush()
        return preferences

    async def set_timezone(self, user_id: int, timezone: str | None) -> MemberPreferences:
        return await self.update(user_id, timezone=timezone)

