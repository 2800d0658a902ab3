"""`/coach reviews`: a coach's written feedback, newest first, in pages. The student is named
only if they agreed (``show_name``); otherwise the review is anonymous."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from scheduling.errors import NotFound

PAGE_SIZE: Final = 5
FEEDBACK_MAX: Final = 900


class CoachRecord(Protocol):
    id: int
    display_name: str
    rating_sum: int
    rating_count: int
    sessions_completed: int


class RatingRecord(Protocol):
    student_id: int
    stars: int
    feedback: str | None
    show_name: bool
    created_at: datetime


class Coaches(Protocol):
    async def get_by_user(self, guild_id: int, user_id: int) -> CoachRecord | None: ...


class Ratings(Protocol):
    async def for_coach(self, coach_id: int) -> Sequence[RatingRecord]: ...


class ReviewsUnitOfWork(Protocol):
    coaches: Coaches
    ratings: Ratings


@dataclass(frozen=True)
class Review:
    stars: int
    text: str
    student_id: int | None  # None: anonymous
    at: datetime


@dataclass(frozen=True)
class Reviews:
    coach_name: str
    average: str  # "4.5" or "—"
    rating_count: int
    sessions_completed: int
    reviews: tuple[Review, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.reviews) // PAGE_SIZE))

    def page(self, index: int) -> tuple[Review, ...]:
        index = min(max(index, 0), self.pages - 1)
        return self.reviews[index * PAGE_SIZE:(index + 1) * PAGE_SIZE]


def average_text(rating_sum: int, rating_count: int) -> str:
    if rating_count <= 0:
        return "—"
    tenths = (rating_sum * 10 * 2 + rating_count) // (rating_count * 2)  # round half up
    return f"{tenths // 10}.{tenths % 10}"


def stars_text(stars: int) -> str:
    return "★" * stars + "☆" * (5 - stars)


def clip(text: str, limit: int = FEEDBACK_MAX) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


async def reviews_for(uow: ReviewsUnitOfWork, *, guild_id: int, user_id: int,
                      member_name: str) -> Reviews:
    coach = await uow.coaches.get_by_user(guild_id, user_id)
    if coach is None:
        raise NotFound(f"{member_name} is not a coach on this server, so there are no reviews. "
                       "`/coaches` lists the coaches.")
    ratings = [r for r in await uow.ratings.for_coach(coach.id)
               if r.feedback and r.feedback.strip()]
    ratings.sort(key=lambda r: r.created_at, reverse=True)
    return Reviews(
        coach_name=coach.display_name,
        average=average_text(coach.rating_sum, coach.rating_count),
        rating_count=coach.rating_count, sessions_completed=coach.sessions_completed,
        reviews=tuple(Review(stars=r.stars, text=clip(r.feedback.strip()),  # type: ignore[union-attr]
                             student_id=r.student_id if r.show_name else None, at=r.created_at)
                      for r in ratings))
