"""Browsing coaches (`/coaches`): who can be booked in a server, filtered by specialty and
sorted by rating, price or the soonest free time; and one coach's card with the offerings a
student can book.

Only coaches with at least one published offering are listed. "Soonest" is the earliest open
slot among a coach's published offerings (the same slots `/book` offers: bookings, holds,
buffers, notice, window and per-day limits applied). Pure: storage comes in through the
Protocols below, `now` is an argument.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Protocol

from scheduling.booking import Bookings, Schedules, load_open_slots
from scheduling.booking import OfferingRecord as BookableOffering
from scheduling.coach_profiles import CoachCard, CoachProfileRecord, coach_card
from scheduling.errors import InvalidInput, NotFound
from scheduling.money import format_money
from scheduling.offerings import OfferingCard, card_for

SORTS: Final = {"rating": "best rated first", "price": "lowest price first",
                "soonest": "soonest free time first"}
DEFAULT_SORT: Final = "rating"
MAX_SUGGESTIONS: Final = 25
MAX_SPECIALTY_FILTER: Final = 40
MAX_OFFERING_CARDS: Final = 9  # a message holds 10 embeds; the coach card is the first


# ---------------------------------------------------------------- ports


class BrowseCoaches(Protocol):
    async def list_bookable(self, guild_id: int) -> Sequence[CoachProfileRecord]: ...

    async def get(self, coach_id: int) -> CoachProfileRecord | None: ...


class BrowseOfferings(Protocol):
    async def get(self, offering_id: int) -> BookableOffering | None: ...

    async def list_published(self, guild_id: int) -> Sequence[BookableOffering]: ...

    async def list_published_for_coach(self, coach_id: int) -> Sequence[BookableOffering]: ...


class BrowseUnitOfWork(Protocol):
    """What browsing reads. The offering cards also read the server's policy and thumbnails
    (`scheduling.offerings.card_for`), which the real unit of work provides."""

    coaches: BrowseCoaches
    offerings: BrowseOfferings
    schedules: Schedules
    bookings: Bookings
    guild_settings: Any


# ---------------------------------------------------------------- what the cog shows


@dataclass(frozen=True)
class CoachListing:
    """One coach in the list: the card data plus what the list sorts on."""

    coach_id: int
    user_id: int
    card: CoachCard
    offering_count: int
    price: str  # "Free", "$25.00", "Free – $40.00"
    lowest_price_minor: int
    rating: Decimal | None  # average, None without ratings
    rating_count: int
    next_open: datetime | None  # earliest free time, None when nothing is free


@dataclass(frozen=True)
class CoachDetails:
    coach_id: int
    user_id: int
    card: CoachCard
    offerings: tuple[OfferingCard, ...]
    more: int  # published offerings left out (a message holds at most 10 embeds)


# ---------------------------------------------------------------- input


def check_sort(sort: str | None) -> str:
    """The sort order asked for (default: rating), or InvalidInput listing the choices."""
    if sort is None or not sort.strip():
        return DEFAULT_SORT
    wanted = sort.strip().lower()
    if wanted not in SORTS:
        raise InvalidInput(f"Sort by `rating`, `price` or `soonest` (not `{sort.strip()[:20]}`).")
    return wanted


def clean_specialty(text: str | None) -> str | None:
    """The specialty to filter on, trimmed; None for no filter."""
    if text is None:
        return None
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_SPECIALTY_FILTER:
        raise InvalidInput(f"A specialty has at most {MAX_SPECIALTY_FILTER} characters. Pick one "
                           "from the suggestions while you type.")
    return cleaned


def matches_specialty(specialties: Iterable[str], wanted: str | None) -> bool:
    """Case-insensitive: `editing` matches `Developmental editing`."""
    if wanted is None:
        return True
    needle = wanted.casefold()
    return any(needle in s.casefold() for s in specialties)


# ---------------------------------------------------------------- pure helpers


def average_rating(rating_sum: int, rating_count: int) -> Decimal | None:
    if rating_count <= 0:
        return None
    return Decimal(rating_sum) / Decimal(rating_count)


def price_range(offerings: Sequence[BookableOffering]) -> str:
    """`Free`, `$25.00` or `Free – $40.00` over a coach's offerings."""
    if not offerings:
        return "-"
    cheapest = min(offerings, key=lambda o: o.price_minor)
    dearest = max(offerings, key=lambda o: o.price_minor)
    low = format_money(cheapest.price_minor, cheapest.currency)
    high = format_money(dearest.price_minor, dearest.currency)
    return low if low == high else f"{low} – {high}"


def sort_listings(listings: Iterable[CoachListing], sort: str) -> list[CoachListing]:
    """Best first. Ties (and coaches without ratings or free times, which come last) are in
    name order."""
    def name(listing: CoachListing) -> tuple[str, int]:
        return listing.card.display_name.casefold(), listing.coach_id

    if sort == "price":
        def key(x: CoachListing) -> tuple[Any, ...]:
            return (x.lowest_price_minor, -(x.rating or Decimal(-1)), *name(x))
    elif sort == "soonest":
        def key(x: CoachListing) -> tuple[Any, ...]:
            when = x.next_open.timestamp() if x.next_open is not None else 0.0
            return (x.next_open is None, when, *name(x))
    else:
        def key(x: CoachListing) -> tuple[Any, ...]:
            return (x.rating is None, -(x.rating or Decimal(0)), -x.rating_count, *name(x))
    return sorted(listings, key=key)


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int) -> int:
    return max(0, min(page, page_count(total, page_size) - 1))


# ---------------------------------------------------------------- reading


async def earliest_open(uow: BrowseUnitOfWork, offering: BookableOffering,
                        now: datetime) -> datetime | None:
    """The first free start of a published offering within its booking window."""
    end = now + timedelta(days=offering.booking_window_days)
    slots = await load_open_slots(uow, offering, now=now, start=now, end=end)
    return slots[0].start if slots else None


async def list_coaches(uow: BrowseUnitOfWork, *, guild_id: int, specialty: str | None,
                       sort: str, now: datetime) -> list[CoachListing]:
    """Every bookable coach of the server matching `specialty`, sorted by `sort`."""
    coaches = [c for c in await uow.coaches.list_bookable(guild_id)
               if matches_specialty(c.specialties or (), specialty)]
    by_coach: dict[int, list[BookableOffering]] = defaultdict(list)
    for offering in await uow.offerings.list_published(guild_id):
        by_coach[offering.coach_id].append(offering)
    listings = []
    for coach in coaches:
        offerings = by_coach.get(coach.id, [])
        if not offerings:
            continue
        starts = [s for s in [await earliest_open(uow, o, now) for o in offerings]
                  if s is not None]
        listings.append(CoachListing(
            coach_id=coach.id, user_id=coach.user_id, card=coach_card(coach, now),
            offering_count=len(offerings), price=price_range(offerings),
            lowest_price_minor=min(o.price_minor for o in offerings),
            rating=average_rating(coach.rating_sum, coach.rating_count),
            rating_count=coach.rating_count, next_open=min(starts) if starts else None))
    return sort_listings(listings, sort)


async def specialty_suggestions(uow: BrowseUnitOfWork, guild_id: int, typed: str) -> list[str]:
    """Specialties of bookable coaches containing what was typed (case-insensitive), each
    once in its most common spelling (the first seen among equals), alphabetical."""
    needle = " ".join(typed.split()).casefold()
    spellings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for coach in await uow.coaches.list_bookable(guild_id):
        for specialty in coach.specialties or ():
            if needle in specialty.casefold():
                spellings[specialty.casefold()][specialty] += 1
    # max() keeps the first of equals: ties go to the spelling seen first (coaches by name).
    chosen = [max(forms.items(), key=lambda kv: kv[1])[0] for forms in spellings.values()]
    return sorted(chosen, key=str.casefold)[:MAX_SUGGESTIONS]


async def coach_details(uow: BrowseUnitOfWork, *, guild_id: int, coach_id: int,
                        now: datetime) -> CoachDetails:
    """A coach's card and the cards of their published offerings."""
    coach = await uow.coaches.get(coach_id)
    if coach is None or coach.guild_id != guild_id:
        raise NotFound("That coach is not on this server any more. Run `/coaches` again.")
    offerings = list(await uow.offerings.list_published_for_coach(coach.id))
    if not offerings:
        raise NotFound(f"{coach.display_name} has nothing to book right now. Run `/coaches` "
                       "to see the other coaches.")
    shown = offerings[:MAX_OFFERING_CARDS]
    cards = tuple([await card_for(uow, coach, o) for o in shown])
    return CoachDetails(coach.id, coach.user_id, coach_card(coach, now), cards,
                        len(offerings) - len(shown))
