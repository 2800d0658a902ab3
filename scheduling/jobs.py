"""The APScheduler adapter: it wakes the process when a session has work due; the database
decides what that work is (`scheduling.lifecycle.process_due`).

The only scheduling module that imports apscheduler (APScheduler 3.11, `AsyncIOScheduler`).

- `Wakeups`: one `DateTrigger` job per booking with pending work (job id ``booking:<id>``), at
  that booking's next due time, plus a periodic sweep. Due times are read on the bot's clock
  (which tests replace); APScheduler runs on real time, so a due time becomes a delay from the
  bot's now. Past due times run at once (no misfire grace: late work is done, not dropped).
- `SessionRunner`: rebuilds the jobs from the database at start-up, runs `process_due` when a job
  fires (concurrent wake-ups are coalesced into one pass), then moves the jobs of the bookings it
  touched to their next due time. `reschedule_booking` / `cancel_booking` re-plan a booking's
  work in the database and move or drop its job. The sweep plans bookings that were confirmed
  without a plan, picks up work another process planned, and catches any missed wake-up.

Nothing is processed before `set_ready()` (the bot cannot reach its servers before Discord's
READY); wake-ups that arrive earlier are remembered and done then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduling.lifecycle import (
    LEASE,
    DueReport,
    SessionEffects,
    UnitOfWorkFactory,
    backfill,
    cancel_booking_work,
    next_due_times,
    process_due,
    replan_booking,
)

log = logging.getLogger(__name__)
# APScheduler logs every added and executed job at INFO: thousands of lines at start-up.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

Clock = Callable[[], datetime]
SWEEP_EVERY: Final = timedelta(minutes=1)
SWEEP_ID: Final = "sweep"


def job_id(booking_id: int) -> str:
    return f"booking:{booking_id}"


def worker_id() -> str:
    """Who claims rows: host, process and a random part (unique across restarts)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Wakeups:
    """One APScheduler job per booking at its next due time, and a periodic sweep."""

    def __init__(self, clock: Clock, on_due: Callable[[int], Awaitable[None]], *,
                 on_sweep: Callable[[], Awaitable[None]] | None = None,
                 sweep_every: timedelta | None = SWEEP_EVERY) -> None:
        self._clock = clock
        self._on_due = on_due
        self._on_sweep = on_sweep
        self._sweep_every = sweep_every
        self._due: dict[int, datetime] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Start firing (needs the running event loop). Jobs added before are kept."""
        if self._on_sweep is not None and self._sweep_every is not None:
            self._scheduler.add_job(self._sweep, IntervalTrigger(
                seconds=self._sweep_every.total_seconds(), timezone=UTC), id=SWEEP_ID,
                replace_existing=True)
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._due.clear()
        for task in list(self._running):
            task.cancel()

    def real_time(self, due: datetime) -> datetime:
        """When, in real time, something due at `due` on the bot's clock is."""
        delay = (due - self._clock()).total_seconds()
        return datetime.now(UTC) + timedelta(seconds=max(0.0, delay))

    def schedule(self, booking_id: int, due: datetime) -> None:
        """Wake up for this booking at `due` (replacing its earlier wake-up)."""
        if self._due.get(booking_id) == due and self._has_job(booking_id):
            return
        self._due[booking_id] = due
        self._scheduler.add_job(self._fire, DateTrigger(run_date=self.real_time(due)),
                                args=(booking_id, due), id=job_id(booking_id),
                                replace_existing=True)

    def schedule_many(self, due_times: Mapping[int, datetime]) -> None:
        for booking_id, due in due_times.items():
            self.schedule(booking_id, due)

    def cancel(self, booking_id: int) -> None:
        """No wake-up for this booking (nothing is pending)."""
        self._due.pop(booking_id, None)
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id(booking_id))

    def due_of(self, booking_id: int) -> datetime | None:
        """When this booking's wake-up is due, on the bot's clock (None: none scheduled)."""
        return self._due.get(booking_id)

    def scheduled(self) -> dict[int, datetime]:
        return dict(self._due)

    def _has_job(self, booking_id: int) -> bool:
        return self._scheduler.get_job(job_id(booking_id)) is not None

    async def _fire(self, booking_id: int, due: datetime) -> None:
        """The job hands over at once: while the work runs, the booking's next wake-up (same
        job id) may already be due, and APScheduler would skip a job still running."""
        if self._due.get(booking_id) == due:
            del self._due[booking_id]
        task = asyncio.ensure_future(self._on_due(booking_id))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _sweep(self) -> None:
        assert self._on_sweep is not None
        await self._on_sweep()


class SessionRunner:
    """Runs a process's share of the session lifecycle; see the module docstring."""

    def __init__(self, uow_factory: UnitOfWorkFactory, effects: SessionEffects, clock: Clock,
                 *, worker: str | None = None, lease: timedelta = LEASE,
                 sweep_every: timedelta | None = SWEEP_EVERY) -> None:
        self._uow_factory = uow_factory
        self._effects = effects
        self._clock = clock
        self.worker = worker or worker_id()
        self.lease = lease
        self._sweep_every = sweep_every or SWEEP_EVERY
        self.wakeups = Wakeups(clock, self._on_due, on_sweep=self.sweep,
                               sweep_every=sweep_every)
        self.ready = False
        self.overdue_at_start = 0
        self.last_report: DueReport | None = None
        self._lock = asyncio.Lock()
        self._requested = 0
        self._completed = 0
        self._woken: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ start and stop

    async def start(self) -> int:
        """Rebuild the wake-ups from the database and start the scheduler; how many bookings
        have a wake-up. Overdue work waits for `set_ready` (then it is done once, late)."""
        count = await self.rebuild()
        self.wakeups.start()
        return count

    async def stop(self) -> None:
        self.wakeups.shutdown()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def set_ready(self) -> asyncio.Task[Any]:
        """The bot can reach Discord: do what is due (and whatever fired before)."""
        self.ready = True
        return self._spawn(self.wake())

    async def idle(self) -> None:
        """Wait until the wake-up passes started so far are over (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def rebuild(self) -> int:
        """One wake-up per booking with pending work, at its next due time."""
        due = await next_due_times(self._uow_factory, lease=self.lease)
        now = self._clock()
        future = {b: d for b, d in due.items() if d > now}
        self.overdue_at_start = len(due) - len(future)
        self._woken.update(b for b, d in due.items() if d <= now)
        for booking_id in set(self.wakeups.scheduled()) - set(due):
            self.wakeups.cancel(booking_id)
        self.wakeups.schedule_many(future)
        log.info("session lifecycle: %d booking(s) with work ahead, %d overdue", len(future),
                 self.overdue_at_start)
        return len(due)

    # ------------------------------------------------------------ doing the work

    async def _on_due(self, booking_id: int) -> None:
        await self.wake({booking_id})

    async def wake(self, booking_ids: Collection[int] = ()) -> DueReport | None:
        """Do all due work now (once ready). Calls that arrive while a pass runs share the
        next pass: when this returns, a pass that started after the call has finished."""
        self._woken.update(booking_ids)
        if not self.ready:
            return None
        return await self.run_due()

    async def run_due(self) -> DueReport:
        """Like `wake`, even before the bot is ready (tests, tools)."""
        self._requested += 1
        ticket = self._requested
        async with self._lock:
            if self._completed >= ticket and self.last_report is not None:
                return self.last_report
            started = self._requested
            try:
                report = await self._pass()
            except Exception:
                log.exception("session lifecycle: a pass over due work failed")
                report = DueReport()
            self._completed = started
            self.last_report = report
            return report

    async def _pass(self) -> DueReport:
        total = DueReport()
        while True:
            woken, self._woken = self._woken, set()
            report = await process_due(self._uow_factory, self._effects, now=self._clock(),
                                       worker=self.worker, lease=self.lease)
            total.reminders.update(report.reminders)
            total.tasks.update(report.tasks)
            total.touched |= report.touched
            await self.refresh(report.touched | woken)
            if not report.more:
                return total

    async def refresh(self, booking_ids: Collection[int]) -> None:
        """Move these bookings' wake-ups to their next due time (or drop them)."""
        if not booking_ids:
            return
        due = await next_due_times(self._uow_factory, booking_ids, lease=self.lease)
        for booking_id in booking_ids:
            if booking_id in due:
                self.wakeups.schedule(booking_id, due[booking_id])
            else:
                self.wakeups.cancel(booking_id)

    async def sweep(self) -> None:
        """Plan bookings confirmed without a plan; schedule work due soon that has no wake-up
        here (planned by another process); catch missed wake-ups."""
        try:
            now = self._clock()
            planned = await backfill(self._uow_factory, now=now)
            if planned:
                log.info("session lifecycle: planned %d booking(s) that had no plan",
                         len(planned))
            soon = await next_due_times(self._uow_factory, lease=self.lease,
                                        until=now + 2 * self._sweep_every)
            known = self.wakeups.scheduled()
            missing = {b: d for b, d in soon.items() if known.get(b) != d}
            self.wakeups.schedule_many({b: d for b, d in missing.items() if d > now})
            overdue = [b for b, d in soon.items() if d <= now]
            if planned:
                await self.refresh(planned)
            if overdue:
                await self.wake(overdue)
        except Exception:
            log.exception("session lifecycle: sweep failed")

    # ------------------------------------------------------------ bookings that changed

    async def booking_changed(self, booking_id: int) -> None:
        """Its work was planned or re-planned in the database: move its wake-up."""
        await self.refresh({booking_id})

    async def reschedule_booking(self, booking_id: int) -> None:
        """The booking moved: its reminders and tasks follow the new time, and so does its
        wake-up."""
        await replan_booking(self._uow_factory, booking_id, now=self._clock())
        await self.refresh({booking_id})

    async def cancel_booking(self, booking_id: int) -> None:
        """The booking was cancelled: its reminders and status changes are dropped, and its
        channel is closed (and its role released) at the next wake-up, right away."""
        await cancel_booking_work(self._uow_factory, booking_id, now=self._clock())
        await self.refresh({booking_id})

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
