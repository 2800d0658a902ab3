"""`/reminders on|off|offsets|show`: a student's choice, stored once for every server, applied
to the reminders not sent yet of their upcoming sessions (never to the coach's)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.lifecycle import runner_of
from storage.models import MemberPreferences
from tests.lifecycle_helpers import (
    MON_10,
    TUE_10,
    World,
    at,
    make_world,
    reminder_dms,
    reminders_by_key,
    session,
)


@pytest.fixture
async def world(coachbot) -> World:
    return await make_world(coachbot)


async def preferences(bot, user_id) -> MemberPreferences | None:
    async with bot.services.uow() as uow:
        return await uow.session.get(MemberPreferences, user_id)


def statuses(planned, user_id) -> dict[tuple[str, int], str]:
    return {(kind, offset): r.status for (who, kind, offset), r in planned.items()
            if who == user_id}


async def test_off_stops_the_students_reminders_but_not_the_coachs(world, clock, driver):
    booking_id = await session(world)

    reply = await driver.slash(world.student, "reminders off")

    assert reply.last.ephemeral
    assert reply.last.content.startswith("Reminders are **off**")
    assert "Updated for your 1 upcoming session" in reply.last.content
    assert (await preferences(world.bot, world.student.id)).reminders_enabled is False
    planned = await reminders_by_key(world.bot, booking_id)
    assert set(statuses(planned, world.student.id).values()) == {"skipped"}
    assert set(statuses(planned, world.coach.id).values()) == {"pending"}
    await at(world, clock, MON_10)
    assert await reminder_dms(world.student) == []
    assert len(await reminder_dms(world.coach)) == 1


async def test_on_again_brings_back_the_reminders_still_ahead(world, clock, driver):
    booking_id = await session(world)
    await driver.slash(world.student, "reminders off")
    clock.now = MON_10 + timedelta(minutes=1)  # the 24-hour one passed while off

    reply = await driver.slash(world.student, "reminders on")

    assert reply.last.content.startswith("Reminders are **on**")
    assert statuses(await reminders_by_key(world.bot, booking_id), world.student.id) == {
        ("reminder", 1440): "skipped", ("reminder", 60): "pending", ("start", 0): "pending"}
    await at(world, clock, TUE_10 - timedelta(hours=1))
    assert len(await reminder_dms(world.student)) == 1


async def test_own_offsets_replace_the_offerings_for_upcoming_sessions(world, clock, driver):
    booking_id = await session(world)

    reply = await driver.slash(world.student, "reminders offsets", times="3h, 30m")

    assert "3 h, 30 min before each session, and when it starts" in reply.last.content
    assert (await preferences(world.bot, world.student.id)).reminder_offsets_minutes == [
        180, 30]
    assert statuses(await reminders_by_key(world.bot, booking_id), world.student.id) == {
        ("reminder", 1440): "skipped", ("reminder", 60): "skipped",
        ("reminder", 180): "pending", ("reminder", 30): "pending", ("start", 0): "pending"}
    # The wake-up moved: the coach's 24-hour reminder still comes first.
    assert runner_of(world.bot).wakeups.due_of(booking_id) == MON_10
    await at(world, clock, TUE_10 - timedelta(hours=3))
    assert len(await reminder_dms(world.student)) == 1
    assert len(await reminder_dms(world.coach)) == 1  # only the 24-hour one so far


async def test_new_bookings_use_the_students_offsets(world, driver):
    await driver.slash(world.student, "reminders offsets", times="2h")

    booking_id = await session(world)

    assert statuses(await reminders_by_key(world.bot, booking_id), world.student.id) == {
        ("reminder", 120): "pending", ("start", 0): "pending"}


async def test_none_keeps_only_the_start_reminder_and_default_goes_back(world, driver):
    booking_id = await session(world)

    only_start = await driver.slash(world.student, "reminders offsets", times="none")
    assert "only when a session starts" in only_start.last.content
    assert statuses(await reminders_by_key(world.bot, booking_id), world.student.id) == {
        ("reminder", 1440): "skipped", ("reminder", 60): "skipped", ("start", 0): "pending"}

    back = await driver.slash(world.student, "reminders offsets", times="default")
    assert "at the times each offering sets" in back.last.content
    assert (await preferences(world.bot, world.student.id)).reminder_offsets_minutes is None
    assert set(statuses(await reminders_by_key(world.bot, booking_id),
                        world.student.id).values()) == {"pending"}


async def test_show_tells_the_current_choice(world, driver):
    shown = await driver.slash(world.student, "reminders show")
    assert shown.last.ephemeral and "at the times each offering sets" in shown.last.content
    assert await preferences(world.bot, world.student.id) is None  # showing writes nothing


async def test_reminders_work_in_dms_too(world, driver):
    reply = await driver.slash(world.student, "reminders off", dm=True)
    assert reply.last.content.startswith("Reminders are **off**")


@pytest.mark.parametrize(("times", "message"), [
    ("soon", "is not a reminder time"),
    ("1h, 2h, 3h, 4h, 5h, 6h", "At most 5 reminder times"),
    ("2m", "reminder time"),
    ("90d", "reminder time"),
])
async def test_bad_offsets_are_refused_and_nothing_is_written(world, driver, times, message):
    booking_id = await session(world)
    before = await reminders_by_key(world.bot, booking_id)

    reply = await driver.slash(world.student, "reminders offsets", times=times)

    assert reply.last.ephemeral and message in reply.last.content
    assert await preferences(world.bot, world.student.id) is None
    after = await reminders_by_key(world.bot, booking_id)
    assert {k: (r.status, r.due_at) for k, r in after.items()} == {
        k: (r.status, r.due_at) for k, r in before.items()}


async def test_offsets_echo_user_text_without_pinging(world, driver):
    reply = await driver.slash(world.student, "reminders offsets", times="@everyone <@&1>")
    assert reply.last.ephemeral and "@everyone" in reply.last.content
    assert reply.last.allowed_mentions == {"parse": []}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(times=st.text(min_size=1, max_size=60).filter(lambda t: t.strip()))
async def test_fuzzed_offsets_always_get_an_ephemeral_answer(coachbot, driver, members, times):
    reply = (await driver.slash(members[0], "reminders offsets", times=times)).last
    assert reply.ephemeral and reply.content
