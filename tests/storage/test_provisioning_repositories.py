"""`uow.provisioning` and `uow.role_grants` on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.provisioning import IN_FLIGHT
from storage.models import GuildSettings, Material
from storage.repositories.provisioning import GAVE_UP
from tests.storage.factories import GUILD_ID, START, add_coach, add_offering, make_booking

H = timedelta(hours=1)


async def seed(uow_factory, *starts, capacity=1, statuses=None, slot_key=None, coach_user=1001):
    """A coach, an offering and bookings at `starts`; returns the booking ids."""
    async with uow_factory() as uow:
        coach = await add_coach(uow, coach_user)
        offering = await add_offering(uow, coach, capacity=capacity)
        ids = []
        for index, start in enumerate(starts):
            status = (statuses or {}).get(index, "confirmed")
            booking = make_booking(offering, start=start, status=status, slot_key=slot_key,
                                   student_id=2000 + index)
            await uow.bookings.add(booking)
            ids.append(booking.id)
        await uow.commit()
    return ids


async def test_begin_counts_attempts_and_marks_them_in_flight(uow_factory):
    [booking_id] = await seed(uow_factory, START)
    async with uow_factory() as uow:
        first = await uow.provisioning.begin(booking_id, "text_channel")
        assert (first.status, first.attempts, first.last_error) == ("pending", 1, IN_FLIGHT)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.provisioning.begin(booking_id, "text_channel")
        await uow.commit()
    assert again.attempts == 2
    async with uow_factory() as uow:
        rows = await uow.provisioning.steps_for(booking_id)
    assert [(r.step, r.attempts) for r in rows] == [("text_channel", 2)]


async def test_finish_records_done_with_its_id_or_an_error_pending(uow_factory):
    [booking_id] = await seed(uow_factory, START)
    async with uow_factory() as uow:
        await uow.provisioning.begin(booking_id, "card")
        await uow.provisioning.finish(booking_id, "card", "done", external_id=123_456_789_012)
        await uow.provisioning.finish(booking_id, "role", "pending", detail="Missing Manage Roles",
                                      count_attempt=True)
        await uow.provisioning.finish(booking_id, "dm_student", "done", detail="DMs closed",
                                      count_attempt=True)
        await uow.commit()
    async with uow_factory() as uow:
        rows = {r.step: r for r in await uow.provisioning.steps_for(booking_id)}
    assert (rows["card"].status, rows["card"].external_id, rows["card"].attempts,
            rows["card"].last_error) == ("done", 123_456_789_012, 1, None)
    assert (rows["role"].status, rows["role"].attempts, rows["role"].last_error) == (
        "pending", 1, "Missing Manage Roles")
    assert (rows["dm_student"].status, rows["dm_student"].last_error) == ("done", "DMs closed")
    assert [r.step for r in await _steps(uow_factory, booking_id)] == ["card", "role",
                                                                        "dm_student"]


async def _steps(uow_factory, booking_id):
    async with uow_factory() as uow:
        return await uow.provisioning.steps_for(booking_id)


async def test_finish_refuses_an_unknown_status(uow_factory):
    [booking_id] = await seed(uow_factory, START)
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="unknown provisioning status"):
            await uow.provisioning.finish(booking_id, "card", "maybe")


async def test_context_loads_booking_offering_coach_settings_and_steps(uow_factory):
    [booking_id] = await seed(uow_factory, START)
    async with uow_factory() as uow:
        assert await uow.provisioning.context(999) is None
        empty = await uow.provisioning.context(booking_id)
        assert empty.settings is None and empty.steps == []
        uow.session.add(GuildSettings(guild_id=GUILD_ID, log_channel_id=55))
        await uow.provisioning.begin(booking_id, "role")
        await uow.commit()
    async with uow_factory() as uow:
        context = await uow.provisioning.context(booking_id)
    assert context.booking.id == booking_id
    assert context.offering.id == context.booking.offering_id
    assert context.coach.id == context.booking.coach_id and context.coach.display_name == "Ada"
    assert context.settings.log_channel_id == 55
    assert [s.step for s in context.steps] == ["role"]


async def test_set_location_stores_channels_and_link_only(uow_factory):
    [booking_id] = await seed(uow_factory, START)
    async with uow_factory() as uow:
        await uow.provisioning.set_location(booking_id, text_channel_id=1 << 60,
                                            join_url="https://meet.jit.si/coachbot-x")
        with pytest.raises(ValueError, match="not location fields"):
            await uow.provisioning.set_location(booking_id, status="cancelled")
        with pytest.raises(LookupError):
            await uow.provisioning.set_location(999, text_channel_id=1)
        await uow.commit()
    async with uow_factory() as uow:
        booking = await uow.bookings.get(booking_id)
    assert (booking.text_channel_id, booking.voice_channel_id, booking.join_url) == (
        1 << 60, None, "https://meet.jit.si/coachbot-x")


async def test_group_location_comes_from_the_other_active_seats(uow_factory):
    first, second, cancelled = await seed(uow_factory, START, START, START, capacity=3,
                                          slot_key="g:1", statuses={2: "cancelled"})
    [solo] = await seed(uow_factory, START + 3 * H, coach_user=1002)
    async with uow_factory() as uow:
        await uow.provisioning.set_location(cancelled, text_channel_id=9, join_url="old")
        await uow.provisioning.set_location(first, text_channel_id=10, join_url="https://x/y")
        await uow.commit()
    async with uow_factory() as uow:
        seat = await uow.bookings.get(second)
        shared = await uow.provisioning.group_location(seat)
        mine = await uow.provisioning.group_location(await uow.bookings.get(first))
        alone = await uow.provisioning.group_location(await uow.bookings.get(solo))
    assert (shared.text_channel_id, shared.voice_channel_id, shared.join_url) == (
        10, None, "https://x/y")
    assert mine.text_channel_id is None  # its own values are not "shared"
    assert alone == type(alone)()


async def test_unfinished_bookings(uow_factory):
    now = START - 24 * H
    pending, done, never, ended, cancelled, held = await seed(
        uow_factory, START, START + H, START + 2 * H, now - 2 * H, START + 3 * H, START + 4 * H,
        statuses={4: "cancelled", 5: "pending_payment"})
    async with uow_factory() as uow:
        await uow.provisioning.finish(pending, "role", "done")
        await uow.provisioning.finish(pending, "card", "pending", detail="x")
        await uow.provisioning.finish(done, "role", "done")
        await uow.provisioning.finish(ended, "role", "pending", detail="x")
        await uow.provisioning.finish(cancelled, "role", "pending", detail="x")
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.provisioning.unfinished_bookings(now)
        first_only = await uow.provisioning.unfinished_bookings(now, limit=1)
        elsewhere = await uow.provisioning.unfinished_bookings(now, guild_ids=[GUILD_ID + 1])
        here = await uow.provisioning.unfinished_bookings(now, guild_ids=[GUILD_ID])
    assert found == [(pending, GUILD_ID), (never, GUILD_ID)]
    assert first_only == [(pending, GUILD_ID)]
    assert elsewhere == [] and here == found
    assert held not in [b for b, _ in found]


async def test_give_up_ended_fails_pending_steps_of_ended_or_inactive_bookings(uow_factory):
    now = START
    ended, cancelled, future = await seed(uow_factory, START - 2 * H, START + H, START + 2 * H,
                                          statuses={1: "cancelled"})
    async with uow_factory() as uow:
        await uow.provisioning.finish(ended, "role", "pending", detail="Missing Manage Roles")
        await uow.provisioning.finish(ended, "card", "done")
        await uow.provisioning.begin(cancelled, "dm_student")
        await uow.provisioning.finish(future, "role", "pending", detail="x")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.provisioning.give_up_ended(now) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.provisioning.give_up_ended(now) == 0
        rows = {(r.booking_id, r.step): r for b in (ended, cancelled, future)
                for r in await uow.provisioning.steps_for(b)}
    assert rows[(ended, "role")].status == "failed"
    assert rows[(ended, "role")].last_error == GAVE_UP + "Missing Manage Roles"
    assert rows[(ended, "card")].status == "done"
    assert rows[(cancelled, "dm_student")].last_error == GAVE_UP + IN_FLIGHT
    assert rows[(future, "role")].status == "pending"


async def test_materials_of_a_booking_in_order(uow_factory):
    first, other = await seed(uow_factory, START, START + H)
    async with uow_factory() as uow:
        uow.session.add_all([
            Material(booking_id=first, uploader_id=1, kind="notes", title="A",
                     created_at=START),
            Material(booking_id=other, uploader_id=1, kind="notes", title="B"),
            Material(booking_id=first, uploader_id=2, kind="outline", title="C",
                     created_at=START + H),
        ])
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.title for m in await uow.materials.for_booking(first)] == ["A", "C"]
        assert await uow.materials.for_booking(999) == []


async def test_role_grants(uow_factory):
    first, second = await seed(uow_factory, START, START + H)
    async with uow_factory() as uow:
        granted = await uow.role_grants.record(guild_id=GUILD_ID, user_id=7, role_id=70,
                                               booking_id=first, had_before=False,
                                               granted_at=START)
        await uow.role_grants.record(guild_id=GUILD_ID, user_id=7, role_id=70,
                                     booking_id=second, had_before=True, granted_at=START)
        await uow.role_grants.record(guild_id=GUILD_ID, user_id=8, role_id=70,
                                     booking_id=second, had_before=False, granted_at=START)
        await uow.commit()
    async with uow_factory() as uow:
        assert [(g.user_id, g.had_before) for g in await uow.role_grants.for_booking(second)] == [
            (7, True), (8, False)]
        active = await uow.role_grants.active_for_member(GUILD_ID, 7, 70)
        assert [g.booking_id for g in active] == [first, second]
        active[0].removed_at = START + H
        await uow.commit()
    async with uow_factory() as uow:
        assert [g.booking_id for g in await uow.role_grants.active_for_member(
            GUILD_ID, 7, 70)] == [second]
        assert await uow.role_grants.active_for_member(GUILD_ID, 7, 71) == []
        [row] = await uow.role_grants.for_booking(first)
    assert row.id == granted.id and row.granted_at == START and row.removed_at == START + H
