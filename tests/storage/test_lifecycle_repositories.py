"""Repositories of the session lifecycle on SQLite and PostgreSQL: claims that only one
process wins, next due times, re-planning, tasks, ratings and the coach's counters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from scheduling.lifecycle import LEASE, PlannedReminder, PlannedTask
from storage.models import Coach, GuildSettings, RoleGrant
from tests.storage.factories import (
    GUILD_ID,
    START,
    add_coach,
    add_offering,
    make_booking,
    seed_coach_and_offering,
)

NOW = START - timedelta(days=2)
STUDENT = 2002


def planned(offset: int, *, recipient: int = STUDENT, status: str = "pending",
            start=START) -> PlannedReminder:
    kind = "start" if offset == 0 else "reminder"
    return PlannedReminder(recipient, kind, offset, start - timedelta(minutes=offset), status)


async def seeded(uow_factory, *reminders: PlannedReminder, start=START,
                 coach_user_id: int = 1001) -> int:
    async with uow_factory() as uow:
        coach = await add_coach(uow, coach_user_id)
        offering = await add_offering(uow, coach)
        booking = await uow.bookings.add(make_booking(offering, start=start))
        await uow.reminders.add_planned(booking.id, list(reminders))
        await uow.commit()
        return booking.id


async def all_reminders(uow_factory, booking_id):
    async with uow_factory() as uow:
        return {(r.recipient_id, r.kind, r.offset_minutes): r
                for r in await uow.reminders.for_booking(booking_id)}


async def test_planning_twice_adds_nothing(uow_factory):
    booking_id = await seeded(uow_factory, planned(1440), planned(0))
    async with uow_factory() as uow:
        assert await uow.reminders.add_planned(booking_id, [planned(1440), planned(60)]) == 1
        await uow.commit()
    assert set(await all_reminders(uow_factory, booking_id)) == {
        (STUDENT, "reminder", 1440), (STUDENT, "reminder", 60), (STUDENT, "start", 0)}


async def test_only_one_of_two_concurrent_claims_wins(uow_factory):
    booking_id = await seeded(uow_factory, planned(1440))
    due_at = START - timedelta(days=1)
    async with uow_factory() as uow:
        [row] = await uow.reminders.due(due_at, stale_before=due_at - LEASE, limit=10)
    assert row.booking_id == booking_id and row.claimed_at is None

    async def claim(worker: str) -> bool:
        async with uow_factory() as uow:
            won = await uow.reminders.claim(row.id, worker=worker, now=due_at,
                                            stale_before=due_at - LEASE)
            await uow.commit()
            return won

    results = await asyncio.gather(claim("a"), claim("b"))
    assert sorted(results) == [False, True]
    async with uow_factory() as uow:  # a held row is not due for anyone else
        assert await uow.reminders.due(due_at, stale_before=due_at - LEASE, limit=10) == []


async def test_a_stale_claim_is_taken_over_and_the_old_holder_cannot_finish(uow_factory):
    await seeded(uow_factory, planned(1440))
    due_at = START - timedelta(days=1)
    async with uow_factory() as uow:
        [row] = await uow.reminders.due(due_at, stale_before=due_at - LEASE, limit=10)
        assert await uow.reminders.claim(row.id, worker="dead", now=due_at,
                                         stale_before=due_at - LEASE)
        await uow.commit()
    later = due_at + LEASE + timedelta(seconds=1)
    async with uow_factory() as uow:
        [again] = await uow.reminders.due(later, stale_before=later - LEASE, limit=10)
        assert again.claimed_at == due_at  # how the new holder knows it was interrupted
        assert await uow.reminders.claim(row.id, worker="alive", now=later,
                                         stale_before=later - LEASE)
        assert not await uow.reminders.finish(row.id, worker="dead", status="sent", at=later)
        assert await uow.reminders.finish(row.id, worker="alive", status="sent", at=later)
        await uow.commit()
    [done] = (await all_reminders(uow_factory, row.booking_id)).values()
    assert (done.status, done.sent_at, done.claimed_by) == ("sent", later, None)


async def test_next_due_times(uow_factory):
    first = await seeded(uow_factory, planned(1440), planned(60), planned(0))
    tomorrow = START + timedelta(days=1)
    second = await seeded(uow_factory, planned(60, recipient=9, start=tomorrow), start=tomorrow,
                          coach_user_id=1002)
    async with uow_factory() as uow:
        due = await uow.reminders.next_due(None, lease=LEASE)
        assert due == {first: START - timedelta(days=1), second: START + timedelta(hours=23)}
        assert await uow.reminders.next_due([second], lease=LEASE) == {
            second: START + timedelta(hours=23)}
        assert await uow.reminders.next_due(None, lease=LEASE, until=START) == {
            first: START - timedelta(days=1)}
        # A claimed (in flight, or failed) row is due again when its lease runs out.
        [row, *_] = await uow.reminders.due(START, stale_before=START - LEASE, limit=1)
        await uow.reminders.claim(row.id, worker="w", now=START, stale_before=START - LEASE)
        await uow.reminders.release(row.id, worker="w")
        assert (await uow.reminders.next_due([first], lease=LEASE))[first] == (
            START - timedelta(hours=1))
        await uow.reminders.finish(row.id, worker="w", status="sent", at=START)  # released
        for other in await uow.reminders.due(START, stale_before=START - LEASE, limit=10):
            await uow.reminders.claim(other.id, worker="w", now=START,
                                      stale_before=START - LEASE)
        assert (await uow.reminders.next_due([first], lease=LEASE))[first] == START + LEASE


async def test_replan_moves_future_reminders_only_unless_the_booking_moved(uow_factory):
    booking_id = await seeded(uow_factory, planned(1440), planned(60), planned(0))
    async with uow_factory() as uow:
        rows = {r.offset_minutes: r for r in await uow.reminders.for_booking(booking_id)}
        rows[1440].status = "sent"
        await uow.commit()
    async with uow_factory() as uow:  # a preference change: 180 instead of 1440 and 60
        await uow.reminders.replan(booking_id, [planned(180), planned(0)], now=NOW,
                                   recipient_id=STUDENT)
        await uow.commit()
    assert {k[2]: r.status for k, r in (await all_reminders(uow_factory, booking_id)).items()
            } == {1440: "sent", 180: "pending", 60: "skipped", 0: "pending"}

    moved = START + timedelta(days=3)
    async with uow_factory() as uow:  # the booking moved: everything follows, sent or not
        await uow.reminders.replan(booking_id, [planned(1440, start=moved),
                                                planned(0, start=moved)],
                                   now=NOW, reset_sent=True)
        await uow.commit()
    after = {k[2]: (r.status, r.due_at) for k, r in
             (await all_reminders(uow_factory, booking_id)).items()}
    assert after == {1440: ("pending", moved - timedelta(days=1)),
                     180: ("skipped", START - timedelta(hours=3)),
                     60: ("skipped", START - timedelta(hours=1)), 0: ("pending", moved)}


async def test_session_tasks(uow_factory):
    booking_id = await seeded(uow_factory)
    end = START + timedelta(hours=1)
    async with uow_factory() as uow:
        tasks = uow.session_tasks
        await tasks.add_planned(booking_id, [PlannedTask("start", START),
                                             PlannedTask("end", end),
                                             PlannedTask("close", end)])
        assert await tasks.add_planned(booking_id, [PlannedTask("start", NOW)]) == 0
        assert await tasks.set_due(booking_id, ("end", "close"), NOW, only_later=True) == 2
        assert await tasks.set_due(booking_id, ("end",), end, only_later=True) == 0
        assert await tasks.skip(booking_id, ("start",)) == 1
        assert await tasks.pending_kinds([booking_id], ("start", "end")) == [(booking_id, "end")]
        [due] = [t for t in await tasks.due(NOW, stale_before=NOW - LEASE, limit=10)
                 if t.kind == "end"]
        assert await tasks.claim(due.id, worker="w", now=NOW, stale_before=NOW - LEASE)
        assert await tasks.release(due.id, worker="w", detail="no permission",
                                   count_attempt=True)
        assert await tasks.next_due([booking_id], lease=LEASE) == {booking_id: NOW}  # close
        await uow.commit()
    async with uow_factory() as uow:
        rows = {t.kind: t for t in await uow.session_tasks.for_booking(booking_id)}
    assert (rows["end"].attempts, rows["end"].detail, rows["end"].claimed_by) == (
        1, "no permission", None)
    assert rows["start"].status == "skipped"


async def test_ratings_one_per_booking_and_the_coach_counters(uow_factory):
    booking_id = await seeded(uow_factory)
    async with uow_factory() as uow:
        booking = await uow.bookings.get(booking_id)
        first = await uow.ratings.create(booking_id=booking_id, student_id=STUDENT,
                                         coach_id=booking.coach_id, stars=4, at=NOW)
        assert first is not None and first.created_at == NOW
        assert await uow.ratings.create(booking_id=booking_id, student_id=STUDENT,
                                        coach_id=booking.coach_id, stars=1, at=NOW) is None
        await uow.ratings.change(first, at=NOW, feedback="good")
        await uow.coaches.add_rating(booking.coach_id, stars_delta=4, count_delta=1)
        await uow.coaches.add_rating(booking.coach_id, stars_delta=-1, count_delta=0)
        await uow.coaches.add_completed(booking.coach_id, 1)
        await uow.commit()
    async with uow_factory() as uow:
        coach = (await uow.session.scalars(select(Coach))).one()
        assert (coach.rating_sum, coach.rating_count, coach.sessions_completed) == (3, 1, 1)
        rating = await uow.ratings.for_booking(booking_id, for_update=True)
        assert (rating.stars, rating.feedback) == (4, "good")


async def test_booking_transitions_are_conditional(uow_factory):
    booking_id = await seeded(uow_factory)
    async with uow_factory() as uow:
        assert await uow.bookings.transition(booking_id, ("confirmed",), "in_progress")
        assert not await uow.bookings.transition(booking_id, ("confirmed",), "cancelled")
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.bookings.get(booking_id)).status == "in_progress"


async def test_which_other_bookings_need_a_role(uow_factory):
    async with uow_factory() as uow:
        uow.session.add(GuildSettings(guild_id=GUILD_ID, access_role_id=555))
        _, offering = await seed_coach_and_offering(uow)
        ended = await uow.bookings.add(make_booking(offering))
        later = await uow.bookings.add(make_booking(offering, start=START + timedelta(days=1)))
        cancelled = await uow.bookings.add(make_booking(offering, start=START + timedelta(days=2),
                                                        status="cancelled"))
        other_student = await uow.bookings.add(make_booking(offering, student_id=1,
                                                            start=START + timedelta(days=3)))
        now = START + timedelta(hours=1)
        assert await uow.bookings.others_needing_role(
            GUILD_ID, STUDENT, 555, exclude_booking_id=ended.id, now=now) == [later.id]
        assert await uow.bookings.others_needing_role(
            GUILD_ID, STUDENT, 777, exclude_booking_id=ended.id, now=now) == []
        # A booking holding an active grant of the role needs it, whatever its offering says.
        uow.session.add(RoleGrant(guild_id=GUILD_ID, user_id=STUDENT, role_id=777,
                                  booking_id=later.id))
        await uow.session.flush()
        assert await uow.bookings.others_needing_role(
            GUILD_ID, STUDENT, 777, exclude_booking_id=ended.id, now=now) == [later.id]
        assert cancelled.id and other_student.id
        assert await uow.bookings.missing_lifecycle(now, limit=10) == [later.id,
                                                                       other_student.id]
        grants = list(await uow.session.scalars(select(RoleGrant)))
        await uow.role_grants.mark_removed([g.id for g in grants], now)
        await uow.session.flush()
        assert [g.removed_at for g in await uow.role_grants.for_booking(later.id)] == [now]
