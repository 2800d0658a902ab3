"""Benchmark the session lifecycle under load (run: ``python -m benchmarks.bench_reminders``).

A SQLite file (WAL) with 10,000 future bookings, each with 3 reminders (24 hours and 1 hour
before, and at the start) for both participants (60,000 reminder rows) plus their 30,000 timed
tasks. The process imports the whole bot (discord.py and every cog) so that its memory is the
bot's. Targets, checked in one run:

- start-up rebuild (every booking's next due time read from the database, one APScheduler job
  per booking) under 5 s;
- memory of the process (peak RSS, after the rebuild and the firing rounds) under 200 MB;
- reminders fire within 1 s of their due time under that load: 200 reminders due over the next
  5 seconds of real time, fired by the real `AsyncIOScheduler`, sent to an in-memory fake
  sender; once instantly and once with 100 ms of simulated Discord latency per DM. Prints the
  p50/p99/max delay; each reminder must be sent exactly once.

Prints every figure and exits non-zero when a target is missed.
"""

from __future__ import annotations

import asyncio
import importlib
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bot.client import cog_extensions
from scheduling.jobs import SessionRunner
from scheduling.lifecycle import (
    Outcome,
    PlannedReminder,
    ReminderDelivery,
    SessionInfo,
    plan_session_reminders,
    plan_session_tasks,
)
from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.models import Booking, Coach, Offering, Reminder, SessionTask
from storage.uow import UnitOfWork, make_session_factory

BOOKINGS = 10_000
COACHES = 100
GUILD_ID = 900_000_000_000_000_001
FIRING = 200
FIRING_SPREAD_S = 5.0
REBUILD_TARGET_S = 5.0
RSS_TARGET_MB = 200.0
DELAY_TARGET_S = 1.0


def now() -> datetime:
    return datetime.now(UTC)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    values = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    peak = values.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return values.get("VmRSS", peak), peak


class FakeSender:
    """The Discord side, in memory: records when each reminder was sent."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.sent: list[tuple[int, datetime, datetime]] = []  # id, due, sent at
        self.done = asyncio.Event()
        self.expected = 0

    async def send_reminder(self, reminder: ReminderDelivery) -> Outcome:
        sent_at = now()
        if self.latency:
            await asyncio.sleep(self.latency)
        self.sent.append((reminder.reminder_id, reminder.due_at, sent_at))
        if len(self.sent) >= self.expected:
            self.done.set()
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


async def seed(engine, start: datetime) -> None:
    """10,000 confirmed bookings from two days ahead on, every 5 minutes, 100 coaches."""
    coaches = [{"id": c + 1, "guild_id": GUILD_ID, "user_id": 10_000 + c,
                "display_name": f"Coach {c}"} for c in range(COACHES)]
    offerings = [{"id": c + 1, "guild_id": GUILD_ID, "coach_id": c + 1, "title": "Session",
                  "status": "published", "reminder_offsets_minutes": [1440, 60]}
                 for c in range(COACHES)]
    bookings, reminders, tasks = [], [], []
    for i in range(BOOKINGS):
        begin = start + timedelta(days=2, minutes=5 * i)
        coach = i % COACHES
        bookings.append({"id": i + 1, "guild_id": GUILD_ID, "offering_id": coach + 1,
                         "coach_id": coach + 1, "student_id": 50_000 + i, "status": "confirmed",
                         "start_at": begin, "end_at": begin + timedelta(minutes=60),
                         "slot_key": f"b:{i}", "answers": []})
        for p in plan_session_reminders(begin, [1440, 60], student_id=50_000 + i,
                                        coach_user_id=10_000 + coach, now=start):
            reminders.append({"booking_id": i + 1, "recipient_id": p.recipient_id,
                              "kind": p.kind, "offset_minutes": p.offset_minutes,
                              "due_at": p.due_at, "status": p.status})
        for t in plan_session_tasks(begin, begin + timedelta(minutes=60)):
            tasks.append({"booking_id": i + 1, "kind": t.kind, "due_at": t.due_at,
                          "status": "pending", "attempts": 0})
    async with engine.begin() as connection:
        await connection.execute(insert(Coach), coaches)
        await connection.execute(insert(Offering), offerings)
        await connection.execute(insert(Booking), bookings)
        await connection.execute(insert(Reminder), reminders)
        await connection.execute(insert(SessionTask), tasks)


async def firing_round(runner: SessionRunner, sender: FakeSender, uow_factory,
                       first_id: int, latency: float) -> list[float]:
    """200 new bookings, one reminder each, due over the next 5 seconds; their delays."""
    sender.latency, sender.sent, sender.expected = latency, [], FIRING
    sender.done.clear()
    t0 = now() + timedelta(seconds=1.5)
    ids = list(range(first_id, first_id + FIRING))
    async with uow_factory() as uow:
        for n, booking_id in enumerate(ids):
            begin = now() + timedelta(hours=3)
            uow.session.add(Booking(id=booking_id, guild_id=GUILD_ID, offering_id=1, coach_id=1,
                                    student_id=90_000 + booking_id, status="confirmed",
                                    start_at=begin, end_at=begin + timedelta(hours=1),
                                    slot_key=f"f:{booking_id}", answers=[]))
            await uow.session.flush()
            due = t0 + timedelta(seconds=FIRING_SPREAD_S * n / FIRING)
            await uow.reminders.add_planned(booking_id, [
                PlannedReminder(90_000 + booking_id, "reminder", 120, due, "pending")])
            await uow.session_tasks.add_planned(
                booking_id, plan_session_tasks(begin, begin + timedelta(hours=1)))
        await uow.commit()
    await runner.refresh(ids)  # what a confirmed booking's caller does (or the sweep)
    await asyncio.wait_for(sender.done.wait(), timeout=FIRING_SPREAD_S + 20)
    await asyncio.sleep(0.5)  # anything sent twice would show now
    counts = Counter(reminder_id for reminder_id, _, _ in sender.sent)
    if len(counts) != FIRING or max(counts.values()) != 1:
        raise SystemExit(f"FAIL: {len(counts)} distinct reminders sent, "
                         f"{max(counts.values())} at most for one (want {FIRING}, 1)")
    async with uow_factory() as uow:
        statuses = Counter((await uow.session.scalars(
            select(Reminder.status).where(Reminder.booking_id.in_(ids)))).all())
    if statuses != Counter({"sent": FIRING}):
        raise SystemExit(f"FAIL: reminder rows {dict(statuses)}")
    return [(sent_at - due).total_seconds() for _, due, sent_at in sender.sent]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> int:
    for extension in cog_extensions():  # the whole bot's code, for an honest memory figure
        importlib.import_module(extension)
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")
        await migrate_engine(engine)
        started = now()
        t = time.perf_counter()
        await seed(engine, started)
        print(f"seeded {BOOKINGS:,} bookings, {BOOKINGS * 6:,} reminders, "
              f"{BOOKINGS * 3:,} tasks in {time.perf_counter() - t:.1f} s")
        factory = make_session_factory(engine)

        def uow_factory(*, immediate: bool = False) -> UnitOfWork:
            return UnitOfWork(factory, immediate=immediate)

        sender = FakeSender()
        runner = SessionRunner(uow_factory, sender, now, sweep_every=timedelta(seconds=3))
        t = time.perf_counter()
        scheduled = await runner.start()
        rebuild = time.perf_counter() - t
        print(f"start-up rebuild: {rebuild:.2f} s for {scheduled:,} bookings "
              f"({len(runner.wakeups.scheduled()):,} wake-ups scheduled)   "
              f"target < {REBUILD_TARGET_S:.0f} s")
        if rebuild >= REBUILD_TARGET_S or len(runner.wakeups.scheduled()) != BOOKINGS:
            failures.append("rebuild")
        current, _ = rss_mb()
        print(f"memory after the rebuild: {current:.0f} MB")
        await runner.set_ready()

        try:
            for round_no, latency in enumerate((0.0, 0.1)):
                delays = await firing_round(runner, sender, uow_factory,
                                            BOOKINGS + 1 + round_no * FIRING, latency)
                p50, p99 = statistics.median(delays), percentile(delays, 0.99)
                print(f"{FIRING} reminders over {FIRING_SPREAD_S:.0f} s, "
                      f"{latency * 1000:.0f} ms per DM: delay p50 {p50 * 1000:.0f} ms, "
                      f"p99 {p99 * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms   "
                      f"target p99 < {DELAY_TARGET_S:.0f} s")
                if p99 >= DELAY_TARGET_S or min(delays) < -0.01:
                    failures.append(f"delay at {latency * 1000:.0f} ms")
            t = time.perf_counter()
            await runner.sweep()
            print(f"one sweep over the database: {(time.perf_counter() - t) * 1000:.0f} ms")
        finally:
            await runner.stop()
            await engine.dispose()

    current, peak = rss_mb()
    print(f"memory: {current:.0f} MB now, peak {peak:.0f} MB   target < {RSS_TARGET_MB:.0f} MB")
    if peak >= RSS_TARGET_MB:
        failures.append("memory")
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
