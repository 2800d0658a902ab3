"""Who may act as a coach: members granted directly or through a role, by a server admin."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from scheduling.errors import NotAllowed


class CoachGrantRecord(Protocol):
    kind: str
    target_id: int


class CoachRecord(Protocol):
    id: int
    guild_id: int
    user_id: int
    display_name: str
    timezone: str


class CoachGrants(Protocol):
    async def list_for_guild(self, guild_id: int) -> Sequence[CoachGrantRecord]: ...


class Coaches(Protocol):
    async def get_by_user(self, guild_id: int, user_id: int) -> CoachRecord | None: ...

    async def create(self, *, guild_id: int, user_id: int, display_name: str,
                     timezone: str = "UTC", avatar_url: str | None = None) -> CoachRecord: ...


class CoachAccessUnitOfWork(Protocol):
    coach_grants: CoachGrants
    coaches: Coaches


NOT_A_COACH = ("Only coaches can use this. A server admin can make you one with "
               "`/coaching coaches add`.")


def is_granted(grants: Sequence[CoachGrantRecord], user_id: int,
               role_ids: Collection[int]) -> bool:
    return any(
        (g.kind == "member" and g.target_id == user_id)
        or (g.kind == "role" and g.target_id in role_ids)
        for g in grants
    )


async def require_coach(
    uow: CoachAccessUnitOfWork, *, guild_id: int, user_id: int, role_ids: Collection[int],
    display_name: str, avatar_url: str | None = None,
) -> CoachRecord:
    """The caller's coach profile (created on first use), or NotAllowed for non-coaches."""
    grants = await uow.coach_grants.list_for_guild(guild_id)
    if not is_granted(grants, user_id, role_ids):
        raise NotAllowed(NOT_A_COACH)
    coach = await uow.coaches.get_by_user(guild_id, user_id)
    if coach is None:
        coach = await uow.coaches.create(guild_id=guild_id, user_id=user_id,
                                         display_name=display_name[:100], avatar_url=avatar_url)
    return coach
