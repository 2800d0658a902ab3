"""The APScheduler adapter with the real `AsyncIOScheduler` (short real-time delays), and the
runner over a real database with in-memory effects: wake-ups fire, move and are dropped, due
work is done once, and the sweep plans bookings confirmed without a plan."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from scheduling.jobs import SessionRunner, Wakeups
from scheduling.lifecycle import (
    GIVE_UP_WAITING,
    LEASE,
    Outcome,
    PlannedReminder,
    ReminderDelivery,
    SessionInfo,
    plan_session,
    process_due,
)
from storage.models import Reminder
from tests.storage.factories import make_booking, seed_coach_and_offering


def real_now() -> datetime:
    return datetime.now(UTC)


class Recorder:
    def __init__(self) -> None:
        self.fired: dict[int, datetime] = {}
        self.event = asyncio.Event()

    async def __call__(self, booking_id: int) -> None:
        self.fired[booking_id] = real_now()
        self.event.set()


async def test_the_real_scheduler_fires_a_wakeup_on_time():
    recorder = Recorder()
    wakeups = Wakeups(real_now, recorder, sweep_every=None)
    wakeups.start()
    try:
        due = real_now() + timedelta(seconds=0.2)
        wakeups.schedule(7, due)
        assert wakeups.due_of(7) == due
        await asyncio.wait_for(recorder.event.wait(), timeout=3)
    finally:
        wakeups.shutdown()
    delay = (recorder.fired[7] - due).total_seconds()
    assert -0.01 <= delay < 0.5
    assert wakeups.due_of(7) is None  # fired once, gone


async def test_wakeups_are_moved_and_cancelled():
    recorder = Recorder()
    wakeups = Wakeups(real_now, recorder, sweep_every=None)
    wakeups.start()
    try:
        wakeups.schedule(1, real_now() + timedelta(seconds=0.15))
        wakeups.cancel(1)
        wakeups.schedule(2, real_now() + timedelta(hours=1))
        moved = real_now() + timedelta(seconds=0.2)
        wakeups.schedule(2, moved)  # brought forward: replaces the first one
        await asyncio.wait_for(recorder.event.wait(), timeout=3)
        await asyncio.sleep(0.1)
    finally:
        wakeups.shutdown()
    assert set(recorder.fired) == {2}
    assert (recorder.fired[2] - moved).total_seconds() < 0.5


async def test_due_times_are_read_on_the_bots_clock():
    """Tests move a fake clock; the scheduler waits the same delay in real time."""
    fake_now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    recorder = Recorder()
    wakeups = Wakeups(lambda: fake_now, recorder, sweep_every=None)
    started = real_now()
    wakeups.start()
    try:
        wakeups.schedule(3, fake_now + timedelta(seconds=0.2))
        wakeups.schedule(4, fake_now - timedelta(days=1))  # overdue: at once
        await asyncio.wait_for(recorder.event.wait(), timeout=3)
        assert set(recorder.fired) == {4}
        await asyncio.sleep(0.4)
    finally:
        wakeups.shutdown()
    assert 0.15 < (recorder.fired[3] - started).total_seconds() < 0.7


class FakeEffects:
    """Records what the Discord side would do; every action succeeds."""

    def __init__(self) -> None:
        self.reminders: list[tuple[ReminderDelivery, datetime]] = []
        self.sent = asyncio.Event()

    async def send_reminder(self, reminder: ReminderDelivery) -> Outcome:
        self.reminders.append((reminder, real_now()))
        self.sent.set()
        return Outcome.done()

    async def session_started(self, session: SessionInfo) -> Outcome:
        return Outcome.done()

    async def close_channel(self, session: SessionInfo, *, user_ids: Sequence[int],
                            delete_at: datetime) -> Outcome:
        return Outcome.done()

    async def remove_role(self, guild_id: int, user_id: int, role_id: int, *,
                          reason: str) -> Outcome:
        return Outcome.done()

    async def send_rating_request(self, session: SessionInfo, *, interrupted: bool,
                                  editable_until: datetime) -> Outcome:
        return Outcome.done()

    async def send_transcript(self, session: SessionInfo, recipient_id: int, *,
                              interrupted: bool) -> Outcome:
        return Outcome.done()

    async def delete_channels(self, session: SessionInfo) -> Outcome:
        return Outcome.done()


async def a_booking(uow_factory, start: datetime, *, plan: bool = True) -> int:
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        booking = await uow.bookings.add(make_booking(offering, start=start))
        if plan:
            await plan_session(uow, booking, now=real_now())
        await uow.commit()
        return booking.id


async def test_the_runner_sends_a_reminder_due_in_real_time(sqlite_url, uow_factory):
    start = real_now() + timedelta(hours=2)
    booking_id = await a_booking(uow_factory, start)
    due = real_now() + timedelta(seconds=0.3)
    async with uow_factory() as uow:  # one reminder due in a moment
        await uow.reminders.add_planned(booking_id, [
            PlannedReminder(77, "reminder", 120, due, "pending")])
        await uow.commit()
        [row] = [r for r in await uow.reminders.for_booking(booking_id) if r.recipient_id == 77]
    effects = FakeEffects()
    runner = SessionRunner(uow_factory, effects, real_now, sweep_every=None)
    assert await runner.start() == 1
    assert runner.wakeups.due_of(booking_id) == row.due_at
    runner.set_ready()
    try:
        await asyncio.wait_for(effects.sent.wait(), timeout=5)
        # Then the wake-up moves on to the next due time: the coach's 1-hour reminder.
        following = start - timedelta(hours=1)
        for _ in range(500):
            if runner.wakeups.due_of(booking_id) == following:
                break
            await asyncio.sleep(0.01)
        assert runner.wakeups.due_of(booking_id) == following
    finally:
        await runner.stop()
    [(delivery, at)] = effects.reminders
    assert delivery.recipient_id == 77 and not delivery.late and not delivery.interrupted
    assert (at - row.due_at).total_seconds() < 1
    async with uow_factory() as uow:
        sent = await uow.session.get(Reminder, row.id)
        assert sent.status == "sent"


async def test_nothing_is_done_before_ready_and_wakeups_are_remembered(uow_factory):
    booking_id = await a_booking(uow_factory, real_now() + timedelta(hours=25))
    runner = SessionRunner(uow_factory, FakeEffects(),
                           lambda: real_now() + timedelta(hours=23, minutes=30), sweep_every=None)
    await runner.start()
    try:
        assert runner.overdue_at_start == 1
        assert await runner.wake({booking_id}) is None
        assert runner.set_ready() is not None
        await runner.idle()
    finally:
        await runner.stop()
    assert sum(runner.last_report.reminders.values()) == 2  # both 24-hour reminders


async def test_concurrent_wakeups_share_one_pass(uow_factory):
    await a_booking(uow_factory, real_now() + timedelta(hours=25))
    effects = FakeEffects()
    runner = SessionRunner(uow_factory, effects,
                           lambda: real_now() + timedelta(hours=23, minutes=30), sweep_every=None)
    reports = await asyncio.gather(*(runner.run_due() for _ in range(5)))
    assert len(effects.reminders) == 2
    assert sum(sum(r.reminders.values()) for r in {id(r): r for r in reports}.values()) == 2


async def test_the_sweep_plans_bookings_confirmed_without_a_plan(uow_factory):
    start = real_now() + timedelta(hours=3)
    booking_id = await a_booking(uow_factory, start, plan=False)
    runner = SessionRunner(uow_factory, FakeEffects(), real_now, sweep_every=None)
    await runner.start()
    try:
        assert runner.wakeups.due_of(booking_id) is None
        await runner.sweep()
        assert runner.wakeups.due_of(booking_id) == start - timedelta(hours=1)
    finally:
        await runner.stop()
    async with uow_factory() as uow:
        assert {t.kind for t in await uow.session_tasks.for_booking(booking_id)} == {
            "start", "end", "close"}


class ElsewhereEffects(FakeEffects):
    """A process that is not in the session's server (another shard serves it)."""

    async def close_channel(self, session: SessionInfo, *, user_ids: Sequence[int],
                            delete_at: datetime) -> Outcome:
        return Outcome.wait("not in that server here")


async def test_work_for_a_server_elsewhere_waits_then_is_given_up_after_a_day(uow_factory):
    start = real_now() + timedelta(hours=1)
    booking_id = await a_booking(uow_factory, start)
    async with uow_factory() as uow:
        await uow.provisioning.set_location(booking_id, text_channel_id=123)
        await uow.commit()
    end = start + timedelta(hours=1)

    await process_due(uow_factory, ElsewhereEffects(), now=end, worker="shard-1")
    async with uow_factory() as uow:
        close = {t.kind: t for t in await uow.session_tasks.for_booking(booking_id)}["close"]
    assert (close.status, close.attempts, close.detail) == (
        "pending", 0, "not in that server here")

    late = end + GIVE_UP_WAITING + LEASE
    await process_due(uow_factory, ElsewhereEffects(), now=late, worker="shard-1")
    async with uow_factory() as uow:
        close = {t.kind: t for t in await uow.session_tasks.for_booking(booking_id)}["close"]
    assert close.status == "failed"
