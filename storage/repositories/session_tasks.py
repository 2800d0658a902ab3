"""Timed steps of a booking's lifecycle (`session_tasks`), claimed like reminders."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from scheduling.lifecycle import PENDING, SKIPPED, PlannedTask
from storage.models import SessionTask
from storage.repositories.dialect_sql import insert_ignoring_conflict
from storage.repositories.reminders import TimedRepository, chunks


@dataclass(frozen=True)
class DueTask:
    id: int
    booking_id: int
    kind: str
    due_at: datetime
    status: str
    attempts: int
    claimed_at: datetime | None


class SessionTaskRepository(TimedRepository):
    model = SessionTask

    async def add_planned(self, booking_id: int, planned: Sequence[PlannedTask]) -> int:
        """Insert the planned tasks; a kind the booking has already is left as it is."""
        if not planned:
            return 0
        statement = insert_ignoring_conflict(self._session, SessionTask, ["booking_id", "kind"])
        result = await self._session.execute(statement.values([
            {"booking_id": booking_id, "kind": t.kind, "due_at": t.due_at, "status": PENDING,
             "attempts": 0} for t in planned]))
        return int(result.rowcount or 0)

    async def for_booking(self, booking_id: int) -> list[SessionTask]:
        statement = (select(SessionTask).where(SessionTask.booking_id == booking_id)
                     .order_by(SessionTask.due_at, SessionTask.id))
        return list(await self._session.scalars(statement))

    async def set_due(self, booking_id: int, kinds: Collection[str], due_at: datetime, *,
                      only_later: bool = False) -> int:
        """Move pending tasks of these kinds to `due_at` (`only_later`: only those due after
        it, i.e. bring them forward)."""
        conditions = [SessionTask.booking_id == booking_id, SessionTask.kind.in_(list(kinds)),
                      SessionTask.status == PENDING]
        if only_later:
            conditions.append(SessionTask.due_at > due_at)
        statement = (update(SessionTask).where(*conditions)
                     .values(due_at=due_at, claimed_by=None, claimed_at=None)
                     .execution_options(synchronize_session=False))
        return int((await self._session.execute(statement)).rowcount or 0)

    async def skip(self, booking_id: int, kinds: Collection[str]) -> int:
        statement = (update(SessionTask)
                     .where(SessionTask.booking_id == booking_id,
                            SessionTask.kind.in_(list(kinds)), SessionTask.status == PENDING)
                     .values(status=SKIPPED, claimed_by=None,
                             detail="not needed: the booking was cancelled")
                     .execution_options(synchronize_session=False))
        return int((await self._session.execute(statement)).rowcount or 0)

    async def due(self, now: datetime, *, stale_before: datetime, limit: int) -> list[DueTask]:
        t = SessionTask
        rows = await self._due_rows((t.id, t.booking_id, t.kind, t.due_at, t.status,
                                     t.attempts, t.claimed_at), now, stale_before, limit)
        return [DueTask(*row) for row in rows]

    async def release(self, row_id: int, *, worker: str, detail: str | None = None,
                      count_attempt: bool = False) -> bool:
        """Give the task back (retried when this claim's lease runs out), noting why."""
        values: dict[str, object] = {"detail": detail}
        if count_attempt:
            values["attempts"] = SessionTask.attempts + 1
        return await self._set_if_mine(row_id, worker, **values)

    async def finish(self, row_id: int, *, worker: str, status: str, at: datetime,
                     detail: str | None = None) -> bool:
        return await self._set_if_mine(row_id, worker, status=status, done_at=at,
                                       detail=detail, attempts=SessionTask.attempts + 1)

    async def pending_kinds(self, booking_ids: Collection[int],
                            kinds: Collection[str]) -> list[tuple[int, str]]:
        """(booking id, kind) of the pending tasks of these kinds among these bookings."""
        found: list[tuple[int, str]] = []
        for ids in chunks(sorted(set(booking_ids))):
            statement = (select(SessionTask.booking_id, SessionTask.kind)
                         .where(SessionTask.booking_id.in_(ids),
                                SessionTask.kind.in_(list(kinds)),
                                SessionTask.status == PENDING)
                         .order_by(SessionTask.booking_id, SessionTask.kind))
            found += [(row.booking_id, row.kind) for row in await self._session.execute(statement)]
        return found
