"""Reminder DMs (`reminders`): planned when a booking is confirmed, claimed before sending.

See `scheduling/lifecycle.py` for the claim protocol. Claims are atomic conditional UPDATEs
(`... WHERE status = 'pending' AND (claimed_at IS NULL OR claimed_at < :stale)`), so of several
processes (or concurrent passes) exactly one gets each row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.lifecycle import PENDING, SENT, SKIPPED, PlannedReminder
from storage.models import Reminder
from storage.repositories.dialect_sql import insert_ignoring_conflict

# Bound parameters per IN (...) list: far below SQLite's and asyncpg's limits.
ID_CHUNK: Final = 500


def chunks(ids: Sequence[int], size: int = ID_CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


@dataclass(frozen=True)
class DueReminder:
    """A pending reminder as the due query saw it (a snapshot, not a tracked row)."""

    id: int
    booking_id: int
    recipient_id: int
    kind: str
    offset_minutes: int
    due_at: datetime
    status: str
    claimed_at: datetime | None


class TimedRepository:
    """Due rows, claims, releases and next due times, shared by reminders and session tasks."""

    model: Any

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _claimable(self, stale_before: datetime) -> Any:
        model = self.model
        return (model.status == PENDING) & or_(model.claimed_at.is_(None),
                                               model.claimed_at < stale_before)

    async def _due_rows(self, columns: Sequence[Any], now: datetime, stale_before: datetime,
                        limit: int) -> Any:
        model = self.model
        statement = (select(*columns)
                     .where(model.due_at <= now, self._claimable(stale_before))
                     .order_by(model.due_at, model.id).limit(limit))
        return await self._session.execute(statement)

    async def claim(self, row_id: int, *, worker: str, now: datetime,
                    stale_before: datetime) -> bool:
        """Take the row for `worker` if nobody holds it (or the holder's lease ran out)."""
        model = self.model
        statement = (update(model)
                     .where(model.id == row_id, self._claimable(stale_before))
                     .values(claimed_by=worker, claimed_at=now)
                     .execution_options(synchronize_session=False))
        result = await self._session.execute(statement)
        return bool(result.rowcount)

    async def _set_if_mine(self, row_id: int, worker: str, **values: Any) -> bool:
        model = self.model
        statement = (update(model)
                     .where(model.id == row_id, model.claimed_by == worker,
                            model.status == PENDING)
                     .values(claimed_by=None, **values)
                     .execution_options(synchronize_session=False))
        result = await self._session.execute(statement)
        return bool(result.rowcount)

    async def next_due(self, booking_ids: Collection[int] | None, *, lease: timedelta,
                       until: datetime | None = None) -> dict[int, datetime]:
        """booking id -> when its next pending row is due: its time, or for a row with a claim
        (in flight, or failed and waiting for a retry) when that claim's lease runs out.
        `until`: only bookings with unclaimed work due by then (and every claimed row)."""
        model = self.model
        free = select(model.booking_id, func.min(model.due_at)).where(
            model.status == PENDING, model.claimed_at.is_(None))
        if until is not None:
            free = free.where(model.due_at <= until)
        free = free.group_by(model.booking_id)
        held = select(model.booking_id, model.due_at, model.claimed_at).where(
            model.status == PENDING, model.claimed_at.is_not(None))
        found: dict[int, datetime] = {}

        def keep(booking_id: int, due: datetime) -> None:
            if booking_id not in found or due < found[booking_id]:
                found[booking_id] = due

        filters = ([None] if booking_ids is None
                   else list(chunks(sorted(set(booking_ids)))))
        for ids in filters:
            if ids is not None and not ids:
                continue
            free_q = free if ids is None else free.where(model.booking_id.in_(ids))
            held_q = held if ids is None else held.where(model.booking_id.in_(ids))
            for booking_id, due in await self._session.execute(free_q):
                keep(booking_id, due)
            for booking_id, due, claimed_at in await self._session.execute(held_q):
                keep(booking_id, max(due, claimed_at + lease))
        return found


class ReminderRepository(TimedRepository):
    model = Reminder

    async def add_planned(self, booking_id: int, planned: Sequence[PlannedReminder]) -> int:
        """Insert the planned reminders; ones that exist already are left as they are."""
        if not planned:
            return 0
        statement = insert_ignoring_conflict(
            self._session, Reminder, ["booking_id", "recipient_id", "kind", "offset_minutes"])
        result = await self._session.execute(statement.values([
            {"booking_id": booking_id, "recipient_id": p.recipient_id, "kind": p.kind,
             "offset_minutes": p.offset_minutes, "due_at": p.due_at, "status": p.status}
            for p in planned]))
        return int(result.rowcount or 0)

    async def for_booking(self, booking_id: int) -> list[Reminder]:
        statement = (select(Reminder).where(Reminder.booking_id == booking_id)
                     .order_by(Reminder.recipient_id, Reminder.due_at, Reminder.id))
        return list(await self._session.scalars(statement))

    async def replan(self, booking_id: int, planned: Sequence[PlannedReminder], *,
                     now: datetime, recipient_id: int | None = None,
                     reset_sent: bool = False) -> None:
        """Make the booking's reminders (one recipient's, or all) match `planned`.

        Without `reset_sent` (a preference changed) only future reminders change; sent,
        failed and overdue ones stay. With it (the booking moved) every reminder follows the
        new plan, including ones already sent for the old time.
        """
        statement = select(Reminder).where(Reminder.booking_id == booking_id)
        if recipient_id is not None:
            statement = statement.where(Reminder.recipient_id == recipient_id)
        existing = {(r.recipient_id, r.kind, r.offset_minutes): r
                    for r in await self._session.scalars(statement)}
        wanted = {p.key: p for p in planned}
        for key, plan in wanted.items():
            row = existing.get(key)
            if row is None:
                self._session.add(Reminder(
                    booking_id=booking_id, recipient_id=plan.recipient_id, kind=plan.kind,
                    offset_minutes=plan.offset_minutes, due_at=plan.due_at,
                    status=plan.status))
                continue
            if not reset_sent and (row.status not in (PENDING, SKIPPED) or row.due_at <= now
                                   or plan.due_at <= now):
                continue
            row.due_at, row.status = plan.due_at, plan.status
            row.sent_at = row.claimed_by = row.claimed_at = None
        for key, row in existing.items():
            if key in wanted or row.status != PENDING:
                continue
            if reset_sent or row.due_at > now:
                row.status = SKIPPED
                row.claimed_by = None
        await self._session.flush()

    async def skip_pending(self, booking_id: int) -> int:
        """No more reminders for this booking (cancelled): pending ones become skipped."""
        statement = (update(Reminder)
                     .where(Reminder.booking_id == booking_id, Reminder.status == PENDING)
                     .values(status=SKIPPED, claimed_by=None)
                     .execution_options(synchronize_session=False))
        return int((await self._session.execute(statement)).rowcount or 0)

    async def due(self, now: datetime, *, stale_before: datetime,
                  limit: int) -> list[DueReminder]:
        """Pending reminders due by `now` that nobody holds, earliest first."""
        r = Reminder
        rows = await self._due_rows((r.id, r.booking_id, r.recipient_id, r.kind,
                                     r.offset_minutes, r.due_at, r.status, r.claimed_at),
                                    now, stale_before, limit)
        return [DueReminder(*row) for row in rows]

    async def release(self, row_id: int, *, worker: str, detail: str | None = None,
                      count_attempt: bool = False) -> bool:
        """Give the row back after a failed attempt; it is retried when the lease of this
        claim (its `claimed_at`, kept) runs out."""
        return await self._set_if_mine(row_id, worker)

    async def finish(self, row_id: int, *, worker: str, status: str, at: datetime) -> bool:
        """Record the result of `worker`'s claim: sent (at `at`), skipped or failed. False when
        the claim was lost meanwhile (the row was re-planned or taken over)."""
        values: dict[str, Any] = {"status": status}
        if status == SENT:
            values["sent_at"] = at
        return await self._set_if_mine(row_id, worker, **values)
