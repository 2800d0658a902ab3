"""OfferingRepository on SQLite and PostgreSQL: updates, questions, thumbnails, bookings."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.models.offerings import OfferingThumbnail
from tests.storage.factories import (
    GUILD_ID,
    START,
    add_coach,
    make_booking,
    seed_coach_and_offering,
)

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def _thumbnail(data: bytes = IMAGE) -> dict:
    return {"content_type": "image/png", "data_base64": base64.b64encode(data).decode(),
            "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


async def test_update_sets_columns_and_refuses_unknown_ones(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        await uow.offerings.update(offering, title="New title", reminder_offsets_minutes=[30],
                                   policy={"tiers": []}, draft_step=3)
        with pytest.raises(AttributeError, match="no updatable column"):
            await uow.offerings.update(offering, colour=1)
        with pytest.raises(AttributeError, match="no updatable column"):
            await uow.offerings.update(offering, coach_id=99)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.offerings.get(offering.id)
        assert (stored.title, stored.reminder_offsets_minutes, stored.policy,
                stored.draft_step) == ("New title", [30], {"tiers": []}, 3)


async def test_a_database_constraint_still_guards_bad_values(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        with pytest.raises(IntegrityError):
            await uow.offerings.update(offering, duration_minutes=500)


async def test_replace_questions_keeps_their_order(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        await uow.offerings.replace_questions(offering.id, [("A", "short", True),
                                                            ("B", "paragraph", False)])
        await uow.offerings.replace_questions(offering.id, [("B", "paragraph", False),
                                                            ("C", "short", True),
                                                            ("A", "short", True)])
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.offerings.questions(offering.id)
        assert [(q.position, q.label, q.style, q.required) for q in stored] == [
            (0, "B", "paragraph", False), (1, "C", "short", True), (2, "A", "short", True)]
        await uow.offerings.replace_questions(offering.id, [])
        assert await uow.offerings.questions(offering.id) == []


async def test_thumbnails_are_stored_replaced_and_removed(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        assert await uow.offerings.thumbnail_info(offering.id) is None
        await uow.offerings.set_thumbnail(offering.id, **_thumbnail())
        await uow.commit()
    async with uow_factory() as uow:
        info = await uow.offerings.thumbnail_info(offering.id)
        assert (info.content_type, info.size_bytes) == ("image/png", len(IMAGE))
        assert base64.b64decode(await uow.offerings.thumbnail_base64(offering.id)) == IMAGE
        other = IMAGE + b"!"
        await uow.offerings.set_thumbnail(offering.id, **_thumbnail(other))
        assert (await uow.offerings.thumbnail_info(offering.id)).sha256 == hashlib.sha256(
            other).hexdigest()
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.offerings.delete_thumbnail(offering.id) is True
        assert await uow.offerings.delete_thumbnail(offering.id) is False
        assert await uow.offerings.thumbnail_info(offering.id) is None
        # set after delete in the same unit of work
        await uow.offerings.set_thumbnail(offering.id, **_thumbnail())
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.offerings.thumbnail_info(offering.id) is not None


@pytest.mark.parametrize(("field", "value"), [
    ("content_type", "image/svg+xml"),
    ("size_bytes", 0),
    ("size_bytes", 1024 * 1024 + 1),
])
async def test_thumbnail_constraints(uow_factory, field, value):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        with pytest.raises(IntegrityError):
            await uow.offerings.set_thumbnail(offering.id, **{**_thumbnail(), field: value})


async def test_deleting_a_draft_removes_its_questions_and_thumbnail(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        await uow.offerings.replace_questions(offering.id, [("A", "short", True)])
        await uow.offerings.set_thumbnail(offering.id, **_thumbnail())
        await uow.commit()
    async with uow_factory() as uow:
        await uow.offerings.delete(await uow.offerings.get(offering.id))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.offerings.get(offering.id) is None
        assert await uow.offerings.questions(offering.id) == []
        assert await uow.session.get(OfferingThumbnail, offering.id) is None


async def test_owner_lists_and_published(uow_factory):
    async with uow_factory() as uow:
        coach, offering = await seed_coach_and_offering(uow)
        assert await uow.offerings.owner_user_id(offering.id) == coach.user_id
        assert await uow.offerings.owner_user_id(offering.id + 1000) is None
        await uow.offerings.update(offering, status="published")
        draft = await uow.offerings.create(guild_id=GUILD_ID, coach_id=coach.id, title="Draft")
        other = await add_coach(uow, user_id=2002, name="Bo")
        theirs = await uow.offerings.create(guild_id=GUILD_ID, coach_id=other.id, title="Theirs",
                                            status="published")
        gone = await uow.offerings.create(guild_id=GUILD_ID, coach_id=coach.id, title="Gone",
                                          status="deleted")
        await uow.offerings.create(guild_id=GUILD_ID + 1, coach_id=other.id, title="Elsewhere",
                                   status="published")
        await uow.commit()
    async with uow_factory() as uow:
        assert [o.id for o in await uow.offerings.list_published(GUILD_ID)] == [offering.id,
                                                                               theirs.id]
        assert [o.id for o in await uow.offerings.list_for_coach(coach.id)] == [offering.id,
                                                                               draft.id]
        with_deleted = await uow.offerings.list_for_coach(coach.id, include_deleted=True)
        assert gone.id in [o.id for o in with_deleted]


async def test_count_future_active_bookings(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow, capacity=10)
        for status, start in (
                ("confirmed", START + timedelta(days=1)),
                ("pending_payment", START + timedelta(days=2)),
                ("in_progress", START - timedelta(minutes=30)),  # running now: counts
                ("cancelled", START + timedelta(days=3)),
                ("expired", START + timedelta(days=4)),
                ("completed", START - timedelta(days=1)),
                ("confirmed", START - timedelta(days=2)),  # long over
        ):
            await uow.bookings.add(make_booking(offering, start=start, status=status,
                                                slot_key=f"o:{offering.id}:{start.timestamp()}"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.offerings.count_future_active_bookings(offering.id, START) == 3
        later = START + timedelta(days=10)
        assert await uow.offerings.count_future_active_bookings(offering.id, later) == 0
        assert await uow.offerings.count_future_active_bookings(offering.id + 1, START) == 0
