"""Browsing coaches (`scheduling.browse`): input, sorting, prices and pages as pure functions;
who is listed, the soonest free time, specialties and a coach's offering cards on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import browse
from scheduling.browse import CoachListing
from scheduling.coach_profiles import CoachCard
from scheduling.errors import InvalidInput, NotFound
from tests.cogs.booking_seed import create_coach, create_offering, insert_booking

GUILD = 1
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
H = timedelta(hours=1)


# ---------------------------------------------------------------- input


def test_sort_defaults_to_rating_and_refuses_unknown_orders():
    assert browse.check_sort(None) == browse.check_sort("  ") == "rating"
    assert browse.check_sort(" Price ") == "price"
    assert browse.check_sort("soonest") == "soonest"
    with pytest.raises(InvalidInput, match="Sort by `rating`, `price` or `soonest`"):
        browse.check_sort("cheapest")


def test_specialty_is_trimmed_and_bounded():
    assert browse.clean_specialty(None) is None
    assert browse.clean_specialty("   ") is None
    assert browse.clean_specialty("  Query   letters ") == "Query letters"
    with pytest.raises(InvalidInput, match="at most 40 characters"):
        browse.clean_specialty("x" * 41)


def test_specialty_matching_ignores_case_and_finds_parts():
    assert browse.matches_specialty(["Developmental editing"], "EDITING")
    assert browse.matches_specialty(["Poetry"], None)
    assert not browse.matches_specialty(["Poetry"], "prose")
    assert not browse.matches_specialty([], "poetry")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_free_text_only_ever_raises_invalid_input(text):
    for check in (browse.clean_specialty, browse.check_sort):
        try:
            check(text)
        except InvalidInput as error:
            assert error.user_message


# ---------------------------------------------------------------- pure helpers


@dataclass
class Priced:
    price_minor: int
    currency: str = "USD"


def test_price_range():
    assert browse.price_range([Priced(0)]) == "Free"
    assert browse.price_range([Priced(2500), Priced(2500)]) == "$25.00"
    assert browse.price_range([Priced(4000), Priced(0), Priced(1000)]) == "Free – $40.00"
    assert browse.price_range([]) == "-"


def test_average_rating():
    assert browse.average_rating(0, 0) is None
    assert browse.average_rating(9, 2) == Decimal("4.5")


def listing(name, *, coach_id=0, price=0, rating=None, count=0, next_open=None):
    card = CoachCard(user_id=coach_id, display_name=name, bio="", specialties=(), rate=None,
                     rating="", sessions_completed=0, timezone="UTC", avatar_url=None,
                     years_experience=None, credentials="")
    return CoachListing(coach_id=coach_id, user_id=coach_id, card=card, offering_count=1,
                        price="", lowest_price_minor=price,
                        rating=None if rating is None else Decimal(rating), rating_count=count,
                        next_open=next_open)


def names(listings):
    return [x.card.display_name for x in listings]


def test_sorting_by_rating_puts_unrated_last_and_breaks_ties_by_count_then_name():
    items = [listing("zed", rating="4.5", count=2), listing("amy"),
             listing("bob", rating="4.5", count=9), listing("cat", rating="5")]
    assert names(browse.sort_listings(items, "rating")) == ["cat", "bob", "zed", "amy"]


def test_sorting_by_price_then_rating():
    items = [listing("a", price=3000), listing("b", price=0, rating="3"),
             listing("c", price=0, rating="4"), listing("d", price=1000)]
    assert names(browse.sort_listings(items, "price")) == ["c", "b", "d", "a"]


def test_sorting_by_soonest_puts_coaches_without_free_times_last():
    items = [listing("late", next_open=NOW + 5 * H), listing("never"),
             listing("early", next_open=NOW + H), listing("Also early", next_open=NOW + H)]
    assert names(browse.sort_listings(items, "soonest")) == [
        "Also early", "early", "late", "never"]


def test_pages():
    assert browse.page_count(0, 4) == 1
    assert browse.page_count(9, 4) == 3
    assert browse.clamp_page(7, 9, 4) == 2
    assert browse.clamp_page(-1, 9, 4) == 0


# ---------------------------------------------------------------- with storage


async def listed(uow_factory, *, specialty=None, sort="rating", now=NOW):
    async with uow_factory() as uow:
        return await browse.list_coaches(uow, guild_id=GUILD, specialty=specialty, sort=sort,
                                         now=now)


async def test_only_coaches_of_the_server_with_published_offerings(uow_factory):
    ann = await create_coach(uow_factory, GUILD, 11, name="Ann")
    draft_only = await create_coach(uow_factory, GUILD, 12, name="Drafts")
    await create_coach(uow_factory, GUILD, 13, name="Empty")
    elsewhere = await create_coach(uow_factory, 2, 14, name="Elsewhere")
    await create_offering(uow_factory, ann, price_minor=2000)
    await create_offering(uow_factory, ann, title="Free taster")
    await create_offering(uow_factory, ann, title="Gone", status="deleted", price_minor=9000)
    await create_offering(uow_factory, draft_only, status="draft")
    await create_offering(uow_factory, elsewhere)

    [only] = await listed(uow_factory)
    assert (only.card.display_name, only.offering_count, only.price) == ("Ann", 2,
                                                                         "Free – $20.00")
    assert only.next_open == NOW + H  # 60 minutes' notice from Monday 09:00


async def test_next_open_skips_taken_times_and_limits(uow_factory):
    ann = await create_coach(uow_factory, GUILD, 11, name="Ann", hours=(10, 12),
                             weekdays=range(0, 1))
    offering = await create_offering(uow_factory, ann, max_per_day=1)
    await insert_booking(uow_factory, offering, 99, NOW + 2 * H)  # Monday 11:00
    [only] = await listed(uow_factory, sort="soonest")
    assert only.next_open == NOW + timedelta(days=7, hours=1)  # next Monday 10:00


async def test_a_coach_with_nothing_free_in_the_window_has_no_next_time(uow_factory):
    ann = await create_coach(uow_factory, GUILD, 11, name="Ann", weekdays=range(0))
    await create_offering(uow_factory, ann)
    [only] = await listed(uow_factory)
    assert only.next_open is None


async def test_specialty_filter_and_suggestions(uow_factory):
    ann = await create_coach(uow_factory, GUILD, 11, name="Ann",
                             specialties=("Poetry", "Query letters"))
    ben = await create_coach(uow_factory, GUILD, 12, name="Ben",
                             specialties=("poetry", "Developmental editing"))
    cleo = await create_coach(uow_factory, GUILD, 13, name="Cleo", specialties=("Secret",))
    for coach in (ann, ben):
        await create_offering(uow_factory, coach)
    await create_offering(uow_factory, cleo, status="draft")  # not bookable: not suggested

    assert names(await listed(uow_factory, specialty="POETRY")) == ["Ann", "Ben"]
    assert names(await listed(uow_factory, specialty="editing")) == ["Ben"]
    assert await listed(uow_factory, specialty="Screenwriting") == []
    async with uow_factory() as uow:
        assert await browse.specialty_suggestions(uow, GUILD, "") == [
            "Developmental editing", "Poetry", "Query letters"]
        assert await browse.specialty_suggestions(uow, GUILD, " LET ") == ["Query letters"]
        assert await browse.specialty_suggestions(uow, 2, "") == []


async def test_coach_details(uow_factory):
    ann = await create_coach(uow_factory, GUILD, 11, name="Ann", bio="Hi")
    first = await create_offering(uow_factory, ann, price_minor=2500)
    for number in range(10):
        await create_offering(uow_factory, ann, title=f"Extra {number}")
    await create_offering(uow_factory, ann, title="Hidden", status="unpublished")
    async with uow_factory() as uow:
        details = await browse.coach_details(uow, guild_id=GUILD, coach_id=ann.id, now=NOW)
    assert details.card.display_name == "Ann" and details.card.bio == "Hi"
    assert len(details.offerings) == browse.MAX_OFFERING_CARDS and details.more == 2
    card = details.offerings[0]
    assert (card.offering_id, card.title, card.coach_name) == (first.id, "Mock interview", "Ann")
    assert dict((f.name, f.value) for f in card.fields)["Price"] == "$25.00"
    assert "Hidden" not in [c.title for c in details.offerings]


async def test_coach_details_refusals(uow_factory):
    ann = await create_coach(uow_factory, GUILD, 11, name="Ann")
    async with uow_factory() as uow:
        with pytest.raises(NotFound, match="Ann has nothing to book"):
            await browse.coach_details(uow, guild_id=GUILD, coach_id=ann.id, now=NOW)
        with pytest.raises(NotFound, match="not on this server"):
            await browse.coach_details(uow, guild_id=2, coach_id=ann.id, now=NOW)
        with pytest.raises(NotFound, match="not on this server"):
            await browse.coach_details(uow, guild_id=GUILD, coach_id=9999, now=NOW)
