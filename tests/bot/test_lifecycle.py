"""A session's life with the real CoachBot in dpytest, driven by the fake clock: reminders once
at their time (past offsets skipped, closed DMs, restarts, interrupted sends), status changes,
no-shows from the session card, the rating DM and feedback, the read-only channel, transcripts
and deletion after the retention, and the access role taken back only when it should be."""

from __future__ import annotations

from datetime import datetime, timedelta

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy import select, update

from bot.lifecycle import (
    DiscordEffects,
    cancel_booking_jobs,
    reschedule_booking_jobs,
    run_due,
    runner_of,
)
from bot.provisioning import provision_booking
from scheduling.booking import BookingRequest, book
from scheduling.lifecycle import (
    LEASE,
    ReminderDelivery,
    reminder_marker,
    session_info,
    transcript_filename,
)
from storage.models import (
    Booking,
    BookingStatusChange,
    Rating,
    Reminder,
    RoleGrant,
)
from tests.harness import close_dms, sent_payload
from tests.lifecycle_helpers import (
    MON_09,
    MON_10,
    TUE_10,
    World,
    at,
    booking_row,
    coach_row,
    discord_ids,
    dms,
    history,
    is_reminder,
    make_world,
    reminder_dms,
    reminders_by_key,
    rows,
    seed_offering,
    session,
    tasks,
    text_channel,
)


@pytest.fixture
async def world(coachbot) -> World:
    return await make_world(coachbot)


# ---------------------------------------------------------------- planning


async def test_confirming_a_booking_plans_its_reminders_and_tasks(world):
    booking_id = await session(world)

    planned = await reminders_by_key(world.bot, booking_id)
    student, coach = world.student.id, world.coach.id
    assert {key: (r.due_at, r.status) for key, r in planned.items()} == {
        (who, kind, offset): (TUE_10 - timedelta(minutes=offset), "pending")
        for who in (student, coach)
        for kind, offset in (("reminder", 1440), ("reminder", 60), ("start", 0))}
    assert {k: (t.due_at, t.status) for k, t in (await tasks(world.bot, booking_id)).items()} == {
        "start": (TUE_10, "pending"), "end": (TUE_10 + timedelta(hours=1), "pending"),
        "close": (TUE_10 + timedelta(hours=1), "pending")}
    # The scheduler wakes the process at the booking's first due time.
    assert runner_of(world.bot).wakeups.due_of(booking_id) == MON_10


async def test_a_held_booking_is_planned_only_when_payment_confirms_it(world, clock):
    from scheduling.booking import confirm_held

    offering_id = await seed_offering(world)
    held = await book(world.bot.services.uow, BookingRequest(offering_id, world.student.id,
                                                             TUE_10),
                      now=clock(), hold=timedelta(minutes=30))
    assert await rows(world.bot, Reminder, held.id) == []
    clock.advance(hours=23, minutes=30)  # paid late: the 24-hour reminder's time has passed

    await confirm_held(world.bot.services.uow, held.id, now=clock())

    planned = await reminders_by_key(world.bot, held.id)
    assert planned[(world.student.id, "reminder", 1440)].status == "skipped"
    assert planned[(world.student.id, "reminder", 60)].status == "pending"


# ---------------------------------------------------------------- reminders on time, once


async def test_each_reminder_fires_once_at_its_time(world, clock):
    booking_id = await session(world)
    runner = runner_of(world.bot)

    await at(world, clock, MON_10 - timedelta(minutes=1))
    assert await reminder_dms(world.student) == []

    await at(world, clock, MON_10)
    [student_24h] = await reminder_dms(world.student)
    [coach_24h] = await reminder_dms(world.coach)
    assert "Reminder: **Mock interview** with **Coach Carla**" in student_24h.content
    assert f"with <@{world.student.id}>" in coach_24h.content
    assert runner.wakeups.due_of(booking_id) == TUE_10 - timedelta(hours=1)

    await run_due(world.bot)  # again at the same time: nothing more
    clock.advance(minutes=30)
    await run_due(world.bot)
    assert len(await reminder_dms(world.student)) == 1

    await at(world, clock, TUE_10 - timedelta(hours=1))
    assert len(await reminder_dms(world.student)) == 2
    assert len(await reminder_dms(world.coach)) == 2

    await at(world, clock, TUE_10)
    student_dms = await reminder_dms(world.student)
    assert len(student_dms) == 3 and len(await reminder_dms(world.coach)) == 3
    assert "is starting now" in student_dms[-1].content
    assert student_dms[-1].embeds[0].title == "Starting now: Mock interview"

    await at(world, clock, TUE_10 + timedelta(minutes=5))
    assert len(await reminder_dms(world.student)) == 3
    planned = await reminders_by_key(world.bot, booking_id)
    assert {r.status for r in planned.values()} == {"sent"}
    assert planned[(world.student.id, "reminder", 60)].sent_at == TUE_10 - timedelta(hours=1)


async def test_reminder_dm_has_join_and_materials_buttons_and_never_pings(world, clock):
    booking_id = await session(world, title="@everyone <@&1> party")
    booking = await booking_row(world.bot, booking_id)

    await at(world, clock, MON_10)

    [dm] = await reminder_dms(world.student)
    assert "**@everyone <@&1> party**" in dm.content  # shown as given
    assert sent_payload(dm)["allowed_mentions"] == {"parse": []}
    embed = dm.embeds[0]
    assert embed.title == "Coming up: @everyone <@&1> party"
    [reminder] = [r for r in await rows(world.bot, Reminder, booking_id)
                  if r.recipient_id == world.student.id and r.offset_minutes == 1440]
    assert embed.footer.text == reminder_marker(reminder.id)
    fields = {f.name: f.value for f in embed.fields}
    unix = int(TUE_10.timestamp())
    assert fields["When"] == f"<t:{unix}:F> (<t:{unix}:R>)"
    assert fields["Where"] == f"Voice channel <#{booking.voice_channel_id}>"
    join, materials, cancel, reschedule = dm.components[0].children
    assert cancel.custom_id == f"session:cancel:{booking_id}"
    assert reschedule.custom_id == f"session:reschedule:{booking_id}"
    assert join.label == "Join" and join.url == (
        f"https://discord.com/channels/{world.guild.id}/{booking.voice_channel_id}")
    assert materials.custom_id == f"session:materials:{booking_id}"
    assert [c.label for c in dm.components[0].children] == [
        "Join", "Materials", "Cancel", "Reschedule"]


async def test_an_offset_already_past_at_booking_time_is_skipped_not_sent(world, clock):
    start = MON_09 + timedelta(hours=2)  # 24 hours before it is already over
    booking_id = await session(world, start=start)

    planned = await reminders_by_key(world.bot, booking_id)
    assert planned[(world.student.id, "reminder", 1440)].status == "skipped"
    assert planned[(world.student.id, "reminder", 60)].status == "pending"
    await run_due(world.bot)  # right after booking: nothing is sent
    assert await reminder_dms(world.student) == []

    await at(world, clock, start - timedelta(hours=1))
    [dm] = await reminder_dms(world.student)
    assert "starts <t:" in dm.content
    assert planned[(world.student.id, "reminder", 1440)].sent_at is None


async def test_the_offerings_own_offsets_are_used(world, clock):
    booking_id = await session(world, reminder_offsets_minutes=[180])
    assert sorted({k[2] for k in await reminders_by_key(world.bot, booking_id)}) == [0, 180]

    await at(world, clock, TUE_10 - timedelta(hours=3))
    assert len(await reminder_dms(world.student)) == 1


# ---------------------------------------------------------------- closed DMs


async def test_closed_dms_post_the_reminder_in_the_session_channel(world, clock):
    booking_id = await session(world)
    close_dms(world.student)
    channel = text_channel(world, await booking_row(world.bot, booking_id))
    before = len(await history(channel))

    await at(world, clock, MON_10)

    posted = (await history(channel))[before:]
    [fallback] = [m for m in posted if is_reminder(m)]
    assert fallback.content.startswith(f"<@{world.student.id}> I could not DM you")
    mentions = sent_payload(fallback)["allowed_mentions"]
    assert mentions["parse"] == [] and [int(u) for u in mentions["users"]] == [world.student.id]
    assert len(await reminder_dms(world.coach)) == 1  # the coach still gets theirs by DM
    planned = await reminders_by_key(world.bot, booking_id)
    assert planned[(world.student.id, "reminder", 1440)].status == "sent"


async def test_closed_dms_without_a_session_channel_mark_the_reminder_failed(world, clock):
    booking_id = await session(world, provision=False)
    close_dms(world.student)

    await at(world, clock, MON_10)

    planned = await reminders_by_key(world.bot, booking_id)
    assert planned[(world.student.id, "reminder", 1440)].status == "failed"
    assert planned[(world.coach.id, "reminder", 1440)].status == "sent"
    await at(world, clock, MON_10 + LEASE * 2)  # a failed reminder is not retried
    assert (await reminders_by_key(world.bot, booking_id))[
        (world.student.id, "reminder", 1440)].status == "failed"


# ---------------------------------------------------------------- late work, restarts, crashes


async def test_overdue_reminders_go_out_once_late_and_only_the_latest(world, clock):
    booking_id = await session(world)

    await at(world, clock, TUE_10 - timedelta(minutes=30))  # the bot "slept" through both

    [dm] = await reminder_dms(world.student)
    assert dm.content.startswith("Reminder (sent late: I was offline)")
    planned = await reminders_by_key(world.bot, booking_id)
    assert planned[(world.student.id, "reminder", 1440)].status == "skipped"
    assert planned[(world.student.id, "reminder", 60)].status == "sent"


async def test_reminders_due_before_a_start_that_passed_are_dropped(world, clock):
    booking_id = await session(world)

    await at(world, clock, TUE_10 + timedelta(minutes=30))  # down until well after the start

    assert await reminder_dms(world.student) == []
    assert {r.status for r in await rows(world.bot, Reminder, booking_id)} == {"skipped"}
    assert (await booking_row(world.bot, booking_id)).status == "in_progress"


async def test_the_start_reminder_is_still_sent_a_few_minutes_late(world, clock):
    await session(world)
    await at(world, clock, TUE_10 - timedelta(hours=1))

    await at(world, clock, TUE_10 + timedelta(minutes=4))

    assert "is starting now" in (await reminder_dms(world.student))[-1].content


async def test_a_restart_in_the_middle_sends_overdue_reminders_exactly_once(
        make_coachbot, monkeypatch, clock):
    with discord_ids(monkeypatch) as ids:
        first = await make_coachbot()
    world = await make_world(first)
    booking_id = await session(world)
    await at(world, clock, MON_10)  # the 24-hour reminders go out
    assert len(await reminder_dms(world.student)) == 1

    await first.remove_cog("Lifecycle")  # the process stops: no more wake-ups
    assert not runner_of(first) and clock.advance(hours=23, minutes=30)  # down until 09:30

    with discord_ids(monkeypatch, ids[:]):
        second = await make_coachbot(engine=first.services.engine)
    student = dpytest.get_config().members[0]
    assert student.id == world.student.id
    runner = runner_of(second)
    assert runner.overdue_at_start == 1  # rebuilt from the database: the 1-hour one is due
    assert runner.wakeups.due_of(booking_id) is None

    second.dispatch("ready")  # Discord says the new process is connected
    await dpytest.run_all_events()
    await runner.idle()

    [late] = await reminder_dms(student)
    assert late.content.startswith("Reminder (sent late: I was offline)")
    assert runner.wakeups.due_of(booking_id) == TUE_10  # next: the start reminder
    await run_due(second)
    clock.advance(minutes=5)
    await run_due(second)
    assert len(await reminder_dms(student)) == 1  # once, not again
    planned = await reminders_by_key(second, booking_id)
    assert planned[(student.id, "reminder", 60)].status == "sent"
    assert planned[(student.id, "reminder", 1440)].sent_at == MON_10  # from before the restart

    await second.remove_cog("Lifecycle")  # and one more restart: still nothing twice
    with discord_ids(monkeypatch, ids[:]):
        third = await make_coachbot(engine=first.services.engine)
    third.dispatch("ready")
    await dpytest.run_all_events()
    await runner_of(third).idle()
    assert await reminder_dms(dpytest.get_config().members[0]) == []


async def claim_as_dead_process(bot, booking_id, recipient_id, offset, *, at: datetime) -> int:
    """A process claimed the reminder at `at` and died before recording the result."""
    async with bot.services.uow() as uow:
        [row] = [r for r in await uow.reminders.for_booking(booking_id)
                 if (r.recipient_id, r.offset_minutes, r.kind) == (recipient_id, offset,
                                                                   "reminder")]
        assert await uow.reminders.claim(row.id, worker="dead", now=at,
                                         stale_before=at - LEASE)
        await uow.commit()
        return row.id


async def test_a_send_interrupted_after_the_dm_is_not_repeated(world, clock):
    booking_id = await session(world)
    clock.now = MON_10
    reminder_id = await claim_as_dead_process(world.bot, booking_id, world.student.id, 1440,
                                              at=MON_10)
    async with world.bot.services.uow() as uow:  # the dead process had sent the DM
        context = await uow.provisioning.context(booking_id)
    await DiscordEffects(world.bot).send_reminder(ReminderDelivery(
        reminder_id=reminder_id, recipient_id=world.student.id, kind="reminder",
        offset_minutes=1440, due_at=MON_10, late=False, interrupted=False,
        session=session_info(context)))

    await run_due(world.bot)  # its claim still holds: nobody else sends it
    assert len(await reminder_dms(world.student)) == 1
    await at(world, clock, MON_10 + LEASE + timedelta(seconds=1))  # the lease ran out

    assert len(await reminder_dms(world.student)) == 1  # found, not sent again
    row = (await reminders_by_key(world.bot, booking_id))[(world.student.id, "reminder", 1440)]
    assert row.status == "sent"


async def test_a_send_interrupted_before_the_dm_is_done_after_the_lease(world, clock):
    booking_id = await session(world)
    clock.now = MON_10
    await claim_as_dead_process(world.bot, booking_id, world.student.id, 1440, at=MON_10)

    await run_due(world.bot)
    assert await reminder_dms(world.student) == []
    assert runner_of(world.bot).wakeups.due_of(booking_id) == MON_10 + LEASE
    await at(world, clock, MON_10 + LEASE + timedelta(seconds=1))

    assert len(await reminder_dms(world.student)) == 1


# ---------------------------------------------------------------- status changes, no-shows


async def statuses(bot, booking_id) -> list[tuple[str | None, str, str | None]]:
    async with bot.services.uow() as uow:
        statement = (select(BookingStatusChange)
                     .where(BookingStatusChange.booking_id == booking_id)
                     .order_by(BookingStatusChange.id))
        return [(c.from_status, c.to_status, c.reason)
                for c in await uow.session.scalars(statement)]


async def card_of(world, booking_id) -> discord.Message:
    channel = text_channel(world, await booking_row(world.bot, booking_id))
    [card] = [m for m in await history(channel)
              if any(e.footer.text == f"Booking #{booking_id}" for e in m.embeds)]
    return card


async def test_status_changes_at_the_start_and_the_end(world, clock):
    booking_id = await session(world)

    await at(world, clock, TUE_10 - timedelta(seconds=1))
    assert (await booking_row(world.bot, booking_id)).status == "confirmed"
    await at(world, clock, TUE_10)
    assert (await booking_row(world.bot, booking_id)).status == "in_progress"
    await at(world, clock, TUE_10 + timedelta(minutes=59))
    assert (await booking_row(world.bot, booking_id)).status == "in_progress"
    await at(world, clock, TUE_10 + timedelta(hours=1))

    assert (await booking_row(world.bot, booking_id)).status == "completed"
    assert (await statuses(world.bot, booking_id))[1:] == [
        ("confirmed", "in_progress", "the session started"),
        ("in_progress", "completed", "the session ended")]
    assert (await coach_row(world)).sessions_completed == 1
    done = await tasks(world.bot, booking_id)
    assert {k: t.status for k, t in done.items()} == {
        "start": "done", "end": "done", "close": "done", "rating": "done",
        "transcript_student": "pending", "transcript_coach": "pending",
        "delete_channel": "pending"}


async def test_transitions_that_were_due_while_down_are_applied(world, clock):
    booking_id = await session(world)

    await at(world, clock, TUE_10 + timedelta(hours=5))

    assert (await booking_row(world.bot, booking_id)).status == "completed"
    assert [s[1] for s in await statuses(world.bot, booking_id)] == [
        "confirmed", "in_progress", "completed"]
    assert (await coach_row(world)).sessions_completed == 1


async def test_the_coach_marks_a_no_show_from_the_session_card(world, clock, make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    before = await card_of(world, booking_id)
    assert [c.label for c in before.components[0].children] == [
        "Join", "Materials", "Cancel", "Reschedule"]

    await at(world, clock, TUE_10 + timedelta(minutes=10))

    card = await card_of(world, booking_id)
    ids = [c.custom_id for row in card.components for c in row.children if c.custom_id]
    no_show = f"session:noshow:{booking_id}:student"
    assert ids == [f"session:materials:{booking_id}", no_show,
                   f"session:noshow:{booking_id}:coach"]
    refused = await driver.click(world.student, card, no_show)
    assert refused.last.ephemeral
    assert "Only the coach of this session" in refused.ephemeral_text
    assert (await booking_row(world.bot, booking_id)).status == "in_progress"

    marked = await driver.click(world.coach, card, no_show)

    assert marked.last.ephemeral and "did not show up" in marked.ephemeral_text
    assert (await booking_row(world.bot, booking_id)).status == "no_show_student"
    updated = driver.message_json(card)
    assert [c.get("custom_id") or c.get("label") for row in updated["components"]
            for c in row["components"]] == ["Join", f"session:materials:{booking_id}"]
    # At the end: no "completed", no rating request; the channel still closes.
    await at(world, clock, TUE_10 + timedelta(hours=1))
    assert (await booking_row(world.bot, booking_id)).status == "no_show_student"
    assert (await coach_row(world)).sessions_completed == 0
    assert not [m for m in await dms(world.student) if m.embeds
                and m.embeds[0].title.startswith("Rate your session")]
    channel = text_channel(world, await booking_row(world.bot, booking_id))
    assert channel.overwrites_for(world.student).send_messages is False


async def test_a_no_show_after_completion_takes_back_the_completed_count(world, clock,
                                                                       make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    await at(world, clock, TUE_10 + timedelta(hours=2))
    assert (await coach_row(world)).sessions_completed == 1

    card = await card_of(world, booking_id)
    marked = await driver.click(world.coach, card, f"session:noshow:{booking_id}:coach")

    assert "coach could not make it" in marked.ephemeral_text
    assert (await booking_row(world.bot, booking_id)).status == "no_show_coach"
    assert (await coach_row(world)).sessions_completed == 0


async def test_no_shows_cannot_be_marked_a_week_after_the_session(world, clock, make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    await at(world, clock, TUE_10 + timedelta(hours=1))
    card = await card_of(world, booking_id)
    clock.now = TUE_10 + timedelta(days=8)

    refused = await driver.click(world.coach, card, f"session:noshow:{booking_id}:student")

    assert "until 7 days after the session" in refused.ephemeral_text
    assert (await booking_row(world.bot, booking_id)).status == "completed"


# ---------------------------------------------------------------- rating


async def rating_dm(member) -> discord.Message:
    [dm] = [m for m in await dms(member)
            if m.embeds and m.embeds[0].title.startswith("Rate your session")]
    return dm


async def ratings(bot) -> list[Rating]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(Rating).order_by(Rating.id)))


async def test_rating_flow_stars_then_feedback_updates_the_coach(world, clock, make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    await at(world, clock, TUE_10 + timedelta(hours=1))
    dm = await rating_dm(world.student)
    assert "How was **Mock interview** with **Coach Carla**?" in dm.content
    assert [c.custom_id for c in dm.components[0].children] == [
        f"rate:{booking_id}:{n}" for n in range(1, 6)]

    rated = await driver.click(world.student, dm, f"rate:{booking_id}:4")

    assert rated.last.kind == 7  # the DM itself is updated
    assert "You rated this session ★★★★☆ (4/5)" in rated.last.content
    assert "4.0 average from 1 rating" in rated.last.content
    coach = await coach_row(world)
    assert (coach.rating_sum, coach.rating_count) == (4, 1)
    [rating] = await ratings(world.bot)
    assert (rating.booking_id, rating.student_id, rating.stars, rating.feedback) == (
        booking_id, world.student.id, 4, None)
    assert rating.created_at == clock()

    opened = await driver.click(world.student, rated.last, f"rate:feedback:{booking_id}")
    assert opened.modal is not None
    saved = await driver.submit_modal(world.student, opened,
                                      {"feedback": "  Great questions @everyone  "})

    assert saved.last.ephemeral and "feedback was saved" in saved.ephemeral_text
    [rating] = await ratings(world.bot)
    assert rating.feedback == "  Great questions @everyone  "  # kept as given


async def test_a_rating_can_be_changed_for_seven_days_then_not(world, clock, make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    await at(world, clock, TUE_10 + timedelta(hours=1))
    dm = await rating_dm(world.student)
    first = await driver.click(world.student, dm, f"rate:{booking_id}:5")
    assert (await coach_row(world)).rating_sum == 5

    clock.advance(days=6)
    changed = await driver.click(world.student, first.last, f"rate:{booking_id}:2")
    assert "(2/5) (was 5)" in changed.last.content
    coach = await coach_row(world)
    assert (coach.rating_sum, coach.rating_count) == (2, 1)  # one rating per session

    clock.advance(days=1, minutes=1)
    refused = await driver.click(world.student, changed.last, f"rate:{booking_id}:4")
    assert refused.last.ephemeral and "can no longer be changed" in refused.ephemeral_text
    coach = await coach_row(world)
    assert (coach.rating_sum, coach.rating_count) == (2, 1)
    assert [r.stars for r in await ratings(world.bot)] == [2]


async def test_ratings_of_several_sessions_make_the_average(world, clock, make_driver):
    driver = make_driver(world.bot)
    first = await session(world)
    second = await session(world, start=TUE_10 + timedelta(hours=3))
    await at(world, clock, TUE_10 + timedelta(hours=5))
    requests = [m for m in await dms(world.student)
                if m.embeds and m.embeds[0].title.startswith("Rate your session")]
    assert len(requests) == 2

    await driver.click(world.student, requests[0], f"rate:{first}:5")
    second_rated = await driver.click(world.student, requests[1], f"rate:{second}:2")

    assert "3.5 average from 2 ratings" in second_rated.last.content
    coach = await coach_row(world)
    assert (coach.rating_sum, coach.rating_count, coach.sessions_completed) == (7, 2, 2)


async def test_only_the_student_may_rate(world, clock, make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    close_dms(world.student)  # the rating request lands in the session channel
    await at(world, clock, TUE_10 + timedelta(hours=1))
    channel = text_channel(world, await booking_row(world.bot, booking_id))
    [request] = [m for m in await history(channel) if m.embeds
                 and m.embeds[0].title.startswith("Rate your session")]
    assert request.content.startswith(f"<@{world.student.id}> I could not DM you")

    refused = await driver.click(world.coach, request, f"rate:{booking_id}:5")

    assert refused.last.ephemeral and "Only the student" in refused.ephemeral_text
    assert await ratings(world.bot) == []
    assert (await coach_row(world)).rating_count == 0


async def test_feedback_before_rating_and_after_the_window_is_refused(world, clock,
                                                                     make_driver):
    driver = make_driver(world.bot)
    booking_id = await session(world)
    await at(world, clock, TUE_10 + timedelta(hours=1))
    rated = await driver.click(world.student, await rating_dm(world.student),
                               f"rate:{booking_id}:3")
    opened = await driver.click(world.student, rated.last, f"rate:feedback:{booking_id}")
    clock.advance(days=8)

    refused = await driver.submit_modal(world.student, opened, {"feedback": "late words"})

    assert refused.last.ephemeral and "can no longer be changed" in refused.ephemeral_text
    assert (await ratings(world.bot))[0].feedback is None


# ---------------------------------------------------------------- cleanup


async def test_the_channel_becomes_read_only_then_is_deleted_with_transcripts(world, clock):
    booking_id = await session(world)
    booking = await booking_row(world.bot, booking_id)
    channel = text_channel(world, booking)
    await dpytest.message("Here is my CV", channel=channel, member=world.student,
                          attachments=["https://cdn.example.com/files/cv.pdf"])
    await dpytest.message("Thanks, see you soon", channel=channel, member=world.coach)

    await at(world, clock, TUE_10 + timedelta(hours=1))

    for member in (world.student, world.coach):
        overwrite = channel.overwrites_for(member)
        assert overwrite.send_messages is False and overwrite.attach_files is False
        assert overwrite.view_channel is True and overwrite.read_message_history is True
        assert not channel.permissions_for(world.guild.get_member(member.id)).send_messages
    assert channel.overwrites_for(world.guild.me).send_messages is True
    notice = (await history(channel))[-1]
    deleted_at = int((TUE_10 + timedelta(days=7, hours=1)).timestamp())
    assert "now read-only" in notice.content and f"<t:{deleted_at}:R>" in notice.content
    assert world.guild.get_channel(booking.voice_channel_id) is not None

    await at(world, clock, TUE_10 + timedelta(days=7, minutes=59))
    assert world.guild.get_channel(channel.id) is not None  # kept for the retention
    await at(world, clock, TUE_10 + timedelta(days=7, hours=1))

    assert world.guild.get_channel(channel.id) is None
    assert world.guild.get_channel(booking.voice_channel_id) is None
    for member in (world.student, world.coach):
        [dm] = [m for m in await dms(member) if m.attachments and
                m.attachments[0].filename == transcript_filename(booking_id)]
        assert "transcript of your session **Mock interview**" in dm.content
        text = (await dm.attachments[0].read()).decode()
        assert "Here is my CV" in text and "Thanks, see you soon" in text
        assert "[attachment] https://cdn.example.com/files/cv.pdf" in text
        assert "session channel is ready" in text  # the bot's card is in it too
    assert {k: t.status for k, t in (await tasks(world.bot, booking_id)).items()} == {
        "start": "done", "end": "done", "close": "done", "rating": "done",
        "transcript_student": "done", "transcript_coach": "done", "delete_channel": "done"}
    assert runner_of(world.bot).wakeups.due_of(booking_id) is None  # nothing left to do


async def test_the_retention_is_the_servers_setting(world, clock):
    async with world.bot.services.uow() as uow:
        settings = await uow.guild_settings.get(world.guild.id)
        settings.channel_retention_days = 2
        await uow.commit()
    booking_id = await session(world)
    channel_id = (await booking_row(world.bot, booking_id)).text_channel_id

    await at(world, clock, TUE_10 + timedelta(days=2))
    assert world.guild.get_channel(channel_id) is not None
    await at(world, clock, TUE_10 + timedelta(days=2, hours=1))
    assert world.guild.get_channel(channel_id) is None


async def test_a_transcript_to_closed_dms_fails_and_the_channel_is_still_deleted(world, clock):
    booking_id = await session(world)
    channel_id = (await booking_row(world.bot, booking_id)).text_channel_id
    await at(world, clock, TUE_10 + timedelta(hours=1))
    close_dms(world.coach)

    await at(world, clock, TUE_10 + timedelta(days=7, hours=1))

    done = await tasks(world.bot, booking_id)
    assert (done["transcript_coach"].status, done["transcript_coach"].detail) == (
        "failed", "DMs closed and no session channel to post in")
    assert done["transcript_student"].status == "done"
    assert world.guild.get_channel(channel_id) is None


async def test_a_channel_deleted_by_an_admin_is_no_problem(world, clock):
    booking_id = await session(world)
    channel = text_channel(world, await booking_row(world.bot, booking_id))
    await channel.delete()

    await at(world, clock, TUE_10 + timedelta(days=8))

    done = await tasks(world.bot, booking_id)
    assert done["close"].status == "done"
    assert done["transcript_student"].status == "skipped"
    assert done["delete_channel"].status == "done"


# ---------------------------------------------------------------- roles


async def grants(bot) -> list[RoleGrant]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(RoleGrant).order_by(RoleGrant.id)))


def has_role(world) -> bool:
    return world.role in world.guild.get_member(world.student.id).roles


async def test_the_role_is_removed_when_no_other_session_needs_it(world, clock):
    await session(world)
    assert has_role(world)

    await at(world, clock, TUE_10 + timedelta(hours=1))

    assert not has_role(world)
    [grant] = await grants(world.bot)
    assert grant.removed_at == TUE_10 + timedelta(hours=1)


async def test_the_role_stays_while_another_upcoming_session_needs_it(world, clock):
    await session(world)
    later = TUE_10 + timedelta(days=1)
    await session(world, start=later)

    await at(world, clock, TUE_10 + timedelta(hours=1))
    assert has_role(world)
    assert [g.removed_at for g in await grants(world.bot)] == [None, None]

    await at(world, clock, later + timedelta(hours=1))
    assert not has_role(world)
    assert {g.removed_at for g in await grants(world.bot)} == {later + timedelta(hours=1)}


async def test_a_session_giving_another_role_does_not_keep_the_access_role(world, clock):
    club = await world.guild.create_role(name="Interview club")
    await session(world)
    await session(world, start=TUE_10 + timedelta(days=1), role_id=club.id)

    await at(world, clock, TUE_10 + timedelta(hours=1))

    roles = world.guild.get_member(world.student.id).roles
    assert world.role not in roles and club in roles


async def test_a_role_the_member_had_before_is_never_removed(world, clock):
    await world.student.add_roles(world.role)
    await session(world)
    [grant] = await grants(world.bot)
    assert grant.had_before is True

    await at(world, clock, TUE_10 + timedelta(days=8))

    assert has_role(world)
    assert (await grants(world.bot))[0].removed_at is None


async def test_a_role_already_taken_away_by_an_admin_is_fine(world, clock):
    booking_id = await session(world)
    await world.guild.get_member(world.student.id).remove_roles(world.role)

    await at(world, clock, TUE_10 + timedelta(hours=1))

    assert (await tasks(world.bot, booking_id))["close"].status == "done"
    assert (await grants(world.bot))[0].removed_at is not None


# ---------------------------------------------------------------- cancel and reschedule


async def test_reschedule_booking_jobs_moves_reminders_tasks_and_the_wakeup(world, clock):
    booking_id = await session(world)
    await at(world, clock, MON_10)  # the 24-hour reminders were sent for the old time
    new_start = TUE_10 + timedelta(days=2)
    async with world.bot.services.uow() as uow:  # what a reschedule does to the booking
        await uow.session.execute(update(Booking).where(Booking.id == booking_id).values(
            start_at=new_start, end_at=new_start + timedelta(hours=1)))
        await uow.commit()

    await reschedule_booking_jobs(world.bot, booking_id)

    planned = await reminders_by_key(world.bot, booking_id)
    assert {k: (r.due_at, r.status) for k, r in planned.items()
            if k[0] == world.student.id} == {
        (world.student.id, "reminder", 1440): (new_start - timedelta(days=1), "pending"),
        (world.student.id, "reminder", 60): (new_start - timedelta(hours=1), "pending"),
        (world.student.id, "start", 0): (new_start, "pending")}
    assert (await tasks(world.bot, booking_id))["start"].due_at == new_start
    assert runner_of(world.bot).wakeups.due_of(booking_id) == new_start - timedelta(days=1)
    await at(world, clock, TUE_10 + timedelta(hours=2))  # the old times pass quietly
    assert len(await reminder_dms(world.student)) == 1
    assert (await booking_row(world.bot, booking_id)).status == "confirmed"
    await at(world, clock, new_start - timedelta(days=1))
    assert len(await reminder_dms(world.student)) == 2


async def test_cancel_booking_jobs_drops_reminders_and_closes_the_session(world, clock):
    booking_id = await session(world)
    async with world.bot.services.uow() as uow:  # what a cancellation does to the booking
        await uow.session.execute(update(Booking).where(Booking.id == booking_id)
                                  .values(status="cancelled"))
        await uow.commit()

    await cancel_booking_jobs(world.bot, booking_id)

    assert runner_of(world.bot).wakeups.due_of(booking_id) == clock()  # at once
    assert {r.status for r in await rows(world.bot, Reminder, booking_id)} == {"skipped"}
    await run_due(world.bot)
    assert not has_role(world)
    channel = text_channel(world, await booking_row(world.bot, booking_id))
    assert channel.overwrites_for(world.student).send_messages is False
    done = await tasks(world.bot, booking_id)
    assert done["start"].status == "skipped" and "rating" not in done
    assert done["delete_channel"].due_at == clock() + timedelta(days=7)
    await at(world, clock, TUE_10 + timedelta(hours=2))
    assert await reminder_dms(world.student) == []
    assert (await booking_row(world.bot, booking_id)).status == "cancelled"


async def test_a_group_sessions_shared_channel_is_cleaned_up_once(world, clock):
    first = await session(world, capacity=2, title="Group clinic")
    offering_id = (await booking_row(world.bot, first)).offering_id
    second_booking = await book(world.bot.services.uow,
                                BookingRequest(offering_id, world.outsider.id, TUE_10),
                                now=clock())
    await provision_booking(world.bot, second_booking.id)
    second = second_booking.id
    shared = (await booking_row(world.bot, first)).text_channel_id
    assert (await booking_row(world.bot, second)).text_channel_id == shared

    await at(world, clock, TUE_10 + timedelta(hours=1))
    channel = world.guild.get_channel(shared)
    for member in (world.student, world.outsider, world.coach):
        assert channel.overwrites_for(member).send_messages is False
    await at(world, clock, TUE_10 + timedelta(days=7, hours=1))

    assert world.guild.get_channel(shared) is None
    for member in (world.student, world.outsider, world.coach):
        transcripts = [m for m in await dms(member) if m.attachments
                       and m.attachments[0].filename.endswith("-transcript.txt")]
        assert len(transcripts) == 1, member
    one, two = await tasks(world.bot, first), await tasks(world.bot, second)
    assert {one["delete_channel"].status, two["delete_channel"].status} == {"done", "skipped"}
    assert {one["transcript_coach"].status, two["transcript_coach"].status} == {
        "done", "skipped"}
