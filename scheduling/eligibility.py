"""Who may book, checked before anything is held. Each refusal says what to do next."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from scheduling.errors import NotAllowed


@dataclass(frozen=True)
class StudentFacts:
    """What Discord tells about the person pressing /book (gathered by the cog)."""

    user_id: int
    is_member: bool
    pending_screening: bool
    role_ids: Collection[int]


def check_can_book(student: StudentFacts, *, coach_user_id: int,
                   required_role_id: int | None) -> None:
    if not student.is_member:
        raise NotAllowed("Only members of this server can book here. Join the server, "
                         "then run `/book` in one of its channels.")
    if student.pending_screening:
        raise NotAllowed("Finish this server's membership screening first (accept the rules "
                         "in the banner at the top of the channel), then run `/book` again.")
    if required_role_id is not None and required_role_id not in student.role_ids:
        raise NotAllowed(f"Booking here needs the <@&{required_role_id}> role. Ask a moderator "
                         "how to get it, then run `/book` again.")
    if student.user_id == coach_user_id:
        raise NotAllowed("You can't book a session with yourself. To see what students see, "
                         "ask someone to try `/book` with you as the coach.")
