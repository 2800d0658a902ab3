"""Coach profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Coach, Offering

# What a coach edits with `/coach profile`; stats and payment ids are changed elsewhere.
PROFILE_FIELDS = frozenset({
    "display_name", "bio", "specialties", "hourly_rate_minor", "currency", "years_experience",
    "credentials", "timezone", "avatar_url",
})


class CoachRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, coach_id: int) -> Coach | None:
        return await self._session.get(Coach, coach_id)

    async def get_by_user(self, guild_id: int, user_id: int) -> Coach | None:
        """The coach profile of a member in a server, if any."""
        statement = select(Coach).where(Coach.guild_id == guild_id, Coach.user_id == user_id)
        return (await self._session.scalars(statement)).one_or_none()

    async def add(self, coach: Coach) -> Coach:
        """Stage a new coach and flush it so its ``id`` is known (a duplicate member raises
        ``IntegrityError``)."""
        self._session.add(coach)
        await self._session.flush()
        return coach

    async def create(self, *, guild_id: int, user_id: int, display_name: str,
                     timezone: str = "UTC", avatar_url: str | None = None) -> Coach:
        """A new coach profile with defaults for everything the coach fills in later."""
        return await self.add(Coach(guild_id=guild_id, user_id=user_id,
                                    display_name=display_name, timezone=timezone,
                                    avatar_url=avatar_url))

    async def update_profile(self, coach: Coach, **values: Any) -> Coach:
        """Change profile fields (see ``PROFILE_FIELDS``) and flush. ``specialties`` is stored
        as a new list, never mutated in place."""
        unknown = set(values) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not profile fields: {sorted(unknown)}")
        for name, value in values.items():
            setattr(coach, name, list(value) if name == "specialties" else value)
        await self._session.flush()
        return coach

    async def list_for_guild(self, guild_id: int) -> list[Coach]:
        """Every coach of a server, by display name."""
        statement = (
            select(Coach).where(Coach.guild_id == guild_id).order_by(Coach.display_name, Coach.id)
        )
        return list(await self._session.scalars(statement))

    async def list_bookable(self, guild_id: int) -> list[Coach]:
        """Coaches of a server with at least one published offering, by display name."""
        published = (select(Offering.id)
                     .where(Offering.coach_id == Coach.id, Offering.status == "published")
                     .exists())
        statement = (select(Coach).where(Coach.guild_id == guild_id, published)
                     .order_by(Coach.display_name, Coach.id))
        return list(await self._session.scalars(statement))

    async def add_rating(self, coach_id: int, *, stars_delta: int, count_delta: int) -> None:
        """Change the coach's rating sum and count in the database itself (concurrent ratings
        of different sessions add up instead of overwriting each other)."""
        statement = (update(Coach).where(Coach.id == coach_id)
                     .values(rating_sum=Coach.rating_sum + stars_delta,
                             rating_count=Coach.rating_count + count_delta)
                     .execution_options(synchronize_session=False))
        await self._session.execute(statement)

    async def add_completed(self, coach_id: int, delta: int) -> None:
        """Count a completed session (or take one back, -1, after a late no-show)."""
        statement = (update(Coach).where(Coach.id == coach_id)
                     .values(sessions_completed=Coach.sessions_completed + delta)
                     .execution_options(synchronize_session=False))
        await self._session.execute(statement)
