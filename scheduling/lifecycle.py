"""A session's life after it is confirmed: reminders, status changes, rating, cleanup.

The database decides what is due; the scheduler (`scheduling/jobs.py`) only wakes the process
at the next due time. Two kinds of timed rows, both planned when the booking is confirmed:

- ``reminders``: one DM per participant and offset (``kind='reminder'``), plus one at the start
  with the join link (``kind='start'``). An offset already past at planning time is stored as
  ``skipped`` and never sent (no burst of reminders right after booking).
- ``session_tasks``: ``start`` (confirmed -> in_progress), ``end`` (-> completed; plans what
  follows), ``close`` (the channel becomes read-only, the access role is released), then
  ``rating`` (the DM asking for 1-5 stars), ``transcript_student`` / ``transcript_coach`` and
  ``delete_channel`` after the server's retention.

`process_due(now)` does all due work. Every row is *claimed* first (``claimed_by`` /
``claimed_at``, an atomic conditional UPDATE, committed), so one process runs it; the claim is a
lease: a row still pending after ``LEASE`` was interrupted (crash, restart) or failed, and may be
claimed again.

Delivery guarantee (reminders, rating and transcript DMs): *exactly once when the bot can see its
own DMs, at most once otherwise.* The claim commits before the DM; the DM carries a marker (its
embed footer or file name); the row is marked ``sent`` right after the DM, by the same claimant,
in the same step. A crash between the DM and that mark leaves a pending row with an old claim:
the next claimant knows the attempt was interrupted (``interrupted=True``) and first looks for
the marker in the recipient's DMs (or the session channel), marking the row sent instead of
sending again. If that lookup itself fails, the DM is not sent again. Duplicates would be worse
than the rare loss: users of other tools complain about bursts of repeated reminders.

Late work (the bot was down): a reminder is sent once, late, if the session has not started yet
(the start reminder: within ``START_GRACE`` of the start), otherwise it is dropped (``skipped``);
of several overdue reminders for the same person and session only the latest is sent. Due status
changes are applied.

Pure: no discord, sqlalchemy or apscheduler here. The storage rows and repositories satisfy the
Protocols below structurally; Discord side effects go through `SessionEffects`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from scheduling.offering_fields import MAX_REMINDERS, format_duration, parse_reminders
from scheduling.provisioning import timestamp

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- values

REMINDER: Final = "reminder"
START: Final = "start"
REMINDER_KINDS: Final = (REMINDER, START)

PENDING: Final = "pending"
SENT: Final = "sent"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"
DONE: Final = "done"
REMINDER_STATUSES: Final = (PENDING, SENT, SKIPPED, FAILED)
TASK_STATUSES: Final = (PENDING, DONE, SKIPPED, FAILED)

TASK_START: Final = "start"
TASK_END: Final = "end"
TASK_CLOSE: Final = "close"
TASK_RATING: Final = "rating"
TASK_TRANSCRIPT_STUDENT: Final = "transcript_student"
TASK_TRANSCRIPT_COACH: Final = "transcript_coach"
TASK_DELETE: Final = "delete_channel"
# In the order tasks due at the same moment run (transcripts before the channel is deleted).
TASK_KINDS: Final = (TASK_START, TASK_END, TASK_CLOSE, TASK_RATING, TASK_TRANSCRIPT_STUDENT,
                     TASK_TRANSCRIPT_COACH, TASK_DELETE)
TASK_ORDER: Final = {kind: i for i, kind in enumerate(TASK_KINDS)}
TRANSCRIPT_TASKS: Final = (TASK_TRANSCRIPT_STUDENT, TASK_TRANSCRIPT_COACH)

# Bookings whose reminders still go out.
REMINDED_STATUSES: Final = ("confirmed", "in_progress")
# A claim older than this is an interrupted or failed attempt; the row may be claimed again.
LEASE: Final = timedelta(minutes=5)
# A reminder sent this long after its time says it is late.
LATE_AFTER: Final = timedelta(minutes=2)
# The start reminder (with the join link) is still useful this long after the start.
START_GRACE: Final = timedelta(minutes=10)
# A first rating may be given until this long after the session ended ...
RATING_WINDOW: Final = timedelta(days=7)
# ... and a rating may be changed until this long after it was first given.
RATING_EDIT_WINDOW: Final = timedelta(days=7)
RATABLE_STATUSES: Final = ("completed",)
# The coach may mark a no-show from the start until this long after the end.
NO_SHOW_WINDOW: Final = timedelta(days=7)
NO_SHOW_STATUSES: Final = {"student": "no_show_student", "coach": "no_show_coach"}
NO_SHOW_FROM: Final = ("confirmed", "in_progress", "completed")
# A task that keeps failing is given up after this many attempts (one per LEASE) ...
MAX_TASK_ATTEMPTS: Final = 5
# ... and one that waits (for the transcripts, or for a process that is in the session's
# server) this long after its time.
GIVE_UP_WAITING: Final = timedelta(days=1)
FEEDBACK_MAX: Final = 1000
DEFAULT_RETENTION_DAYS: Final = 7
BATCH: Final = 100
MAX_ROUNDS: Final = 50
# Reminders of different sessions are sent side by side (a DM takes a round trip to Discord).
SEND_CONCURRENCY: Final = 8




# ---------------------------------------------------------------- reminder plan


@dataclass(frozen=True)
class ReminderPreference:
    """A student's `/reminders` choice: off, or their own offsets (None: the offering's)."""

    enabled: bool = True
    offsets: tuple[int, ...] | None = None


@dataclass(frozen=True)
class PlannedReminder:
    recipient_id: int
    kind: str
    offset_minutes: int
    due_at: datetime
    status: str  # pending, or skipped: already past when planned

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.recipient_id, self.kind, self.offset_minutes)


def clean_offsets(offsets: Iterable[int] | None) -> tuple[int, ...]:
    """Positive whole minutes, longest first, without duplicates (0 is the start reminder)."""
    return tuple(sorted({int(m) for m in offsets or () if int(m) > 0}, reverse=True))


def plan_reminders(start_at: datetime, offsets: Iterable[int], *, recipient_id: int,
                   now: datetime) -> list[PlannedReminder]:
    """One reminder per offset before `start_at` and one at the start. Those whose time is not
    after `now` are planned as skipped: never sent, certainly not all at once right now."""
    planned = [(REMINDER, minutes, start_at - timedelta(minutes=minutes))
               for minutes in clean_offsets(offsets)]
    planned.append((START, 0, start_at))
    return [PlannedReminder(recipient_id, kind, minutes, due,
                            PENDING if due > now else SKIPPED)
            for kind, minutes, due in planned]


def plan_student_reminders(start_at: datetime, offering_offsets: Iterable[int] | None, *,
                           student_id: int, now: datetime,
                           preference: ReminderPreference | None = None
                           ) -> list[PlannedReminder]:
    """The student's reminders: at their own offsets (or the offering's), none at all when they
    turned reminders off."""
    preference = preference or ReminderPreference()
    if not preference.enabled:
        return []
    offsets = (clean_offsets(offering_offsets) if preference.offsets is None
               else clean_offsets(preference.offsets))
    return plan_reminders(start_at, offsets, recipient_id=student_id, now=now)


def plan_session_reminders(start_at: datetime, offering_offsets: Iterable[int] | None, *,
                           student_id: int, coach_user_id: int, now: datetime,
                           student: ReminderPreference | None = None
                           ) -> list[PlannedReminder]:
    """The coach at the offering's offsets; the student as `plan_student_reminders`."""
    rows = plan_reminders(start_at, clean_offsets(offering_offsets), recipient_id=coach_user_id,
                          now=now)
    rows += plan_student_reminders(start_at, offering_offsets, student_id=student_id, now=now,
                                   preference=student)
    unique = {row.key: row for row in rows}
    return list(unique.values())


@dataclass(frozen=True)
class PlannedTask:
    kind: str
    due_at: datetime


def plan_session_tasks(start_at: datetime, end_at: datetime) -> list[PlannedTask]:
    return [PlannedTask(TASK_START, start_at), PlannedTask(TASK_END, end_at),
            PlannedTask(TASK_CLOSE, end_at)]


def deletion_due(end_at: datetime, retention_days: int | None) -> datetime:
    """When the private channel is deleted (its transcripts are sent just before)."""
    days = DEFAULT_RETENTION_DAYS if retention_days is None else max(0, retention_days)
    return end_at + timedelta(days=days)


def plan_after_end(end_at: datetime, retention_days: int | None, *, completed: bool,
                   has_channel: bool) -> list[PlannedTask]:
    """What the end of a session starts: the rating request (completed sessions only), and
    transcripts then deletion of the private channel after the retention."""
    tasks = [PlannedTask(TASK_RATING, end_at)] if completed else []
    if has_channel:
        when = deletion_due(end_at, retention_days)
        tasks += [PlannedTask(TASK_TRANSCRIPT_STUDENT, when),
                  PlannedTask(TASK_TRANSCRIPT_COACH, when), PlannedTask(TASK_DELETE, when)]
    return tasks


# ---------------------------------------------------------------- late reminders


def reminder_dropped(kind: str, booking_status: str, start_at: datetime, end_at: datetime,
                     now: datetime) -> str | None:
    """Why a due reminder must not be sent any more (None: send it, late or not)."""
    if booking_status not in REMINDED_STATUSES:
        return f"the booking is {booking_status.replace('_', ' ')}"
    if kind == START:
        if now >= min(start_at + START_GRACE, end_at):
            return "the session started too long ago"
        return None
    if now >= start_at:
        return "the session had already started"
    return None


def latest_per_recipient(rows: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """(to send, superseded): of several reminders due at once for the same person and
    session, only the latest is sent."""
    latest: dict[tuple[int, int], Any] = {}
    for row in rows:
        key = (row.booking_id, row.recipient_id)
        if key not in latest or (row.due_at, row.id) > (latest[key].due_at, latest[key].id):
            latest[key] = row
    keep = {id(row) for row in latest.values()}
    return ([r for r in rows if id(r) in keep], [r for r in rows if id(r) not in keep])


# ---------------------------------------------------------------- status changes


def started_status(status: str) -> str | None:
    return "in_progress" if status == "confirmed" else None


def ended_status(status: str) -> str | None:
    return "completed" if status in ("confirmed", "in_progress") else None


def check_no_show(status: str, start_at: datetime, end_at: datetime, now: datetime) -> None:
    """The coach may mark a no-show during the session or in the week after it."""
    if status in NO_SHOW_STATUSES.values():
        raise Conflict("This session is already marked as a no-show.")
    if status not in NO_SHOW_FROM:
        raise Conflict(f"This session is {status.replace('_', ' ')}, so there is no no-show "
                       "to mark.")
    if now < start_at:
        raise NotAllowed(f"The session has not started yet ({timestamp(start_at, 'R')}). "
                         "You can mark a no-show once it has started.")
    if now > end_at + NO_SHOW_WINDOW:
        raise NotAllowed("No-shows can be marked until 7 days after the session, and that time "
                         "has passed.")


# ---------------------------------------------------------------- ratings


def check_stars(stars: int) -> int:
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise InvalidInput("A rating is 1 to 5 stars.")
    return stars


def rating_editable_until(first_given_at: datetime) -> datetime:
    return first_given_at + RATING_EDIT_WINDOW


def check_can_rate(status: str, end_at: datetime, now: datetime,
                   first_given_at: datetime | None) -> None:
    """A completed session can be rated once, within 7 days of its end; the rating can then be
    changed for 7 days after it was first given."""
    if status not in RATABLE_STATUSES:
        raise NotAllowed("Only completed sessions can be rated.")
    if now < end_at:
        raise NotAllowed("You can rate the session once it is over.")
    if first_given_at is None:
        if now > end_at + RATING_WINDOW:
            raise NotAllowed("Sessions can be rated until 7 days after they end, and that time "
                             "has passed.")
    elif now > rating_editable_until(first_given_at):
        raise NotAllowed(f"Ratings can be changed for 7 days; yours was given "
                         f"{timestamp(first_given_at, 'D')}, so it can no longer be changed.")


def stars_text(stars: int) -> str:
    return "★" * stars + "☆" * (5 - stars)


def average_text(rating_sum: int, rating_count: int) -> str:
    if rating_count <= 0:
        return "no ratings yet"
    return f"{rating_sum / rating_count:.1f} average from {rating_count} rating" + (
        "s" if rating_count != 1 else "")


# ---------------------------------------------------------------- roles

REMOVE: Final = "remove"
KEEP_HAD_BEFORE: Final = "keep: the member had the role before the bot gave it"
KEEP_NEEDED: Final = "keep: another upcoming or in-progress session needs it"


def role_decision(*, had_before: bool, needed_elsewhere: bool) -> str:
    """Remove a role the bot granted only if the member did not hold it before and no other
    upcoming or in-progress session of theirs needs it."""
    if had_before:
        return KEEP_HAD_BEFORE
    if needed_elsewhere:
        return KEEP_NEEDED
    return REMOVE


# ---------------------------------------------------------------- transcripts


@dataclass(frozen=True)
class TranscriptLine:
    at: datetime
    author: str
    content: str
    attachments: tuple[str, ...] = ()
    embeds: tuple[str, ...] = ()


TRANSCRIPT_MAX_BYTES: Final = 8 * 1024 * 1024


def transcript_filename(booking_id: int) -> str:
    return f"session-{booking_id}-transcript.txt"


def transcript_text(*, booking_id: int, title: str, channel_name: str,
                    lines: Sequence[TranscriptLine], generated_at: datetime,
                    max_bytes: int = TRANSCRIPT_MAX_BYTES) -> bytes:
    """A plain-text transcript, oldest message first, with attachment links (UTC times)."""
    head = [f"Transcript of #{channel_name}: {title} (booking #{booking_id})",
            f"Generated {generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; times are UTC.", ""]
    body: list[str] = []
    for line in lines:
        stamp = line.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        text = line.content.replace("\r\n", "\n")
        body.append(f"[{stamp}] {line.author}: {text}".rstrip())
        body += [f"    [embed] {embed}" for embed in line.embeds]
        body += [f"    [attachment] {url}" for url in line.attachments]
    if not lines:
        body.append("(no messages)")
    data = "\n".join(head + body).encode("utf-8") + b"\n"
    if len(data) <= max_bytes:
        return data
    note = b"\n[... cut: the transcript was longer than a DM attachment may be]\n"
    return data[:max_bytes - len(note)].decode("utf-8", "ignore").encode("utf-8") + note


# ---------------------------------------------------------------- texts


def reminder_text(kind: str, *, title: str, coach_name: str, student_id: int,
                  start_at: datetime, for_coach: bool, late: bool,
                  channel_id: int | None = None, has_link: bool = True) -> str:
    """The DM's words; names and titles are shown as given (no message from the bot pings)."""
    other = f"with <@{student_id}>" if for_coach else f"with **{coach_name}**"
    if kind == START:
        if has_link:
            how = "Use the Join button below to get in."
        elif channel_id is not None:
            how = f"Meet in the session channel <#{channel_id}>."
        else:
            how = "See the session card for how to meet."
        return f"**{title}** {other} is starting now ({timestamp(start_at, 't')}). {how}"
    prefix = "Reminder (sent late: I was offline)" if late else "Reminder"
    return (f"{prefix}: **{title}** {other} starts {timestamp(start_at, 'R')}, "
            f"{timestamp(start_at, 'F')}.")


def reminder_marker(reminder_id: int) -> str:
    """The reminder DM's embed footer; how a retry recognises a DM it already sent."""
    return f"Reminder #{reminder_id}"


def rating_marker(booking_id: int) -> str:
    return f"Rating for booking #{booking_id}"


def rating_request_text(*, title: str, coach_name: str, until: datetime) -> str:
    return (f"How was **{title}** with **{coach_name}**? Rate it from 1 to 5 stars with the "
            f"buttons below (until {timestamp(until, 'f')}); you can add written feedback "
            "too, and change your rating for 7 days.")


# ---------------------------------------------------------------- /reminders

MIN_STUDENT_OFFSET: Final = 5


def parse_student_offsets(text: str) -> tuple[int, ...] | None:
    """`24h, 1h` -> (1440, 60); `default` -> None (the offering's offsets); `none` -> ()
    (only the reminder at the start)."""
    cleaned = text.strip().lower()
    if cleaned in ("default", "offering", "reset"):
        return None
    parts = [p for p in cleaned.replace(";", ",").split(",") if p.strip()]
    if len(parts) > MAX_REMINDERS:
        raise InvalidInput(f"At most {MAX_REMINDERS} reminder times; you gave {len(parts)}. "
                           "Example: `24h, 1h`.")
    return tuple(parse_reminders(text))


def describe_preference(preference: ReminderPreference) -> str:
    if not preference.enabled:
        return ("Reminders are **off**: you get no reminder DMs for the sessions you book "
                "(sessions you coach still remind you).")
    if preference.offsets is None:
        when = "at the times each offering sets (usually 24 hours and 1 hour before)"
    elif not preference.offsets:
        when = "only when a session starts"
    else:
        before = ", ".join(format_duration(m) for m in preference.offsets)
        when = f"{before} before each session, and when it starts"
    return f"Reminders are **on**: you get a DM {when}."


# ---------------------------------------------------------------- ports: records


class BookingRecord(Protocol):
    id: int
    guild_id: int
    offering_id: int
    coach_id: int
    student_id: int
    status: str
    start_at: datetime
    end_at: datetime
    text_channel_id: int | None
    voice_channel_id: int | None
    join_url: str | None


class OfferingRecord(Protocol):
    id: int
    title: str
    capacity: int
    session_type: str
    location_kind: str
    reminder_offsets_minutes: list[int]


class CoachRecord(Protocol):
    id: int
    user_id: int
    display_name: str
    rating_sum: int
    rating_count: int


class SettingsRecord(Protocol):
    channel_retention_days: int


class StepRecord(Protocol):
    step: str
    status: str
    external_id: int | None


class SessionContext(Protocol):
    booking: BookingRecord
    offering: OfferingRecord
    coach: CoachRecord
    settings: SettingsRecord | None
    steps: Sequence[StepRecord]


class TimedRow(Protocol):
    """A reminder or task as the due query returns it."""

    id: int
    booking_id: int
    kind: str
    due_at: datetime
    status: str
    claimed_at: datetime | None


class ReminderRow(TimedRow, Protocol):
    recipient_id: int
    offset_minutes: int


class TaskRow(TimedRow, Protocol):
    attempts: int


class RatingRecord(Protocol):
    id: int
    booking_id: int
    stars: int
    feedback: str | None
    created_at: datetime


class PreferenceRecord(Protocol):
    reminders_enabled: bool
    reminder_offsets_minutes: list[int] | None


class GrantRecord(Protocol):
    id: int
    guild_id: int
    user_id: int
    role_id: int
    had_before: bool
    removed_at: datetime | None


# ---------------------------------------------------------------- ports: repositories


class TimedRows(Protocol):
    """What reminders and session tasks have in common: due rows, claims and next due times."""

    async def due(self, now: datetime, *, stale_before: datetime,
                  limit: int) -> Sequence[Any]: ...

    async def claim(self, row_id: int, *, worker: str, now: datetime,
                    stale_before: datetime) -> bool: ...

    async def release(self, row_id: int, *, worker: str, detail: str | None = None,
                      count_attempt: bool = False) -> bool: ...

    async def next_due(self, booking_ids: Collection[int] | None, *, lease: timedelta,
                       until: datetime | None = None) -> dict[int, datetime]: ...


class Reminders(TimedRows, Protocol):
    async def add_planned(self, booking_id: int, planned: Sequence[PlannedReminder]) -> int: ...

    async def replan(self, booking_id: int, planned: Sequence[PlannedReminder], *,
                     now: datetime, recipient_id: int | None = None,
                     reset_sent: bool = False) -> None: ...

    async def skip_pending(self, booking_id: int) -> int: ...

    async def finish(self, row_id: int, *, worker: str, status: str,
                     at: datetime) -> bool: ...


class SessionTasks(TimedRows, Protocol):
    async def add_planned(self, booking_id: int, planned: Sequence[PlannedTask]) -> int: ...

    async def set_due(self, booking_id: int, kinds: Collection[str], due_at: datetime, *,
                      only_later: bool = False) -> int: ...

    async def skip(self, booking_id: int, kinds: Collection[str]) -> int: ...

    async def finish(self, row_id: int, *, worker: str, status: str, at: datetime,
                     detail: str | None = None) -> bool: ...

    async def pending_kinds(self, booking_ids: Collection[int],
                            kinds: Collection[str]) -> list[tuple[int, str]]: ...


class Contexts(Protocol):
    async def context(self, booking_id: int) -> SessionContext | None: ...


class LifecycleBookings(Protocol):
    async def get(self, booking_id: int) -> BookingRecord | None: ...

    async def transition(self, booking_id: int, from_statuses: Collection[str],
                         to_status: str) -> bool: ...

    async def record_status(self, booking_id: int, from_status: str | None, to_status: str,
                            *, at: datetime, actor_id: int | None,
                            reason: str | None = None) -> None: ...

    async def others_needing_role(self, guild_id: int, student_id: int, role_id: int, *,
                                  exclude_booking_id: int, now: datetime) -> list[int]: ...

    async def channel_mates(self, booking_id: int,
                            text_channel_id: int) -> list[tuple[int, str]]: ...

    async def upcoming_for_student(self, student_id: int, now: datetime) -> list[Any]: ...

    async def missing_lifecycle(self, now: datetime, *, limit: int) -> list[int]: ...


class LifecycleCoaches(Protocol):
    async def get(self, coach_id: int) -> CoachRecord | None: ...

    async def add_rating(self, coach_id: int, *, stars_delta: int, count_delta: int) -> None: ...

    async def add_completed(self, coach_id: int, delta: int) -> None: ...


class Offerings(Protocol):
    async def get(self, offering_id: int) -> Any: ...


class Preferences(Protocol):
    async def get(self, user_id: int) -> PreferenceRecord | None: ...

    async def update(self, user_id: int, **values: Any) -> PreferenceRecord: ...


class Ratings(Protocol):
    async def for_booking(self, booking_id: int, *,
                          for_update: bool = False) -> RatingRecord | None: ...

    async def create(self, *, booking_id: int, student_id: int, coach_id: int, stars: int,
                     at: datetime) -> RatingRecord | None: ...

    async def change(self, rating: RatingRecord, *, at: datetime, stars: int | None = None,
                     feedback: str | None = None, clear_feedback: bool = False) -> None: ...


class RoleGrants(Protocol):
    async def for_booking(self, booking_id: int) -> Sequence[GrantRecord]: ...

    async def active_for_member(self, guild_id: int, user_id: int,
                                role_id: int) -> Sequence[GrantRecord]: ...

    async def mark_removed(self, grant_ids: Collection[int], at: datetime) -> None: ...


class PlanningUnitOfWork(Protocol):
    offerings: Offerings
    coaches: LifecycleCoaches
    preferences: Preferences
    reminders: Reminders
    session_tasks: SessionTasks


class LifecycleUnitOfWork(PlanningUnitOfWork, Protocol):
    provisioning: Contexts
    bookings: LifecycleBookings
    ratings: Ratings
    role_grants: RoleGrants

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., AbstractAsyncContextManager[LifecycleUnitOfWork]]


# ---------------------------------------------------------------- the effects port


@dataclass(frozen=True)
class SessionInfo:
    """What the Discord side needs to know about a session."""

    booking_id: int
    guild_id: int
    status: str
    start_at: datetime
    end_at: datetime
    student_id: int
    coach_id: int
    coach_user_id: int
    coach_name: str
    title: str
    capacity: int
    session_type: str
    location_kind: str
    text_channel_id: int | None
    voice_channel_id: int | None
    join_url: str | None
    card_message_id: int | None
    retention_days: int


def session_info(context: SessionContext) -> SessionInfo:
    booking, offering, coach = context.booking, context.offering, context.coach
    card = next((s.external_id for s in context.steps if s.step == "card"
                 and s.status == DONE), None)
    retention = (context.settings.channel_retention_days if context.settings is not None
                 else DEFAULT_RETENTION_DAYS)
    return SessionInfo(
        booking_id=booking.id, guild_id=booking.guild_id, status=booking.status,
        start_at=booking.start_at, end_at=booking.end_at, student_id=booking.student_id,
        coach_id=coach.id, coach_user_id=coach.user_id, coach_name=coach.display_name,
        title=offering.title, capacity=offering.capacity, session_type=offering.session_type,
        location_kind=offering.location_kind, text_channel_id=booking.text_channel_id,
        voice_channel_id=booking.voice_channel_id, join_url=booking.join_url,
        card_message_id=card, retention_days=retention)


RETRY: Final = "retry"
WAIT: Final = "wait"


@dataclass(frozen=True)
class Outcome:
    """How an attempt went: done, skipped (nothing to do), failed (final), retry (after the
    lease; counts as an attempt) or wait (after the lease; not an attempt)."""

    status: str
    detail: str | None = None

    @classmethod
    def done(cls, detail: str | None = None) -> Outcome:
        return cls(DONE, detail)

    @classmethod
    def skipped(cls, detail: str) -> Outcome:
        return cls(SKIPPED, detail)

    @classmethod
    def failed(cls, detail: str) -> Outcome:
        return cls(FAILED, detail)

    @classmethod
    def retry(cls, detail: str) -> Outcome:
        return cls(RETRY, detail)

    @classmethod
    def wait(cls, detail: str) -> Outcome:
        return cls(WAIT, detail)


@dataclass(frozen=True)
class ReminderDelivery:
    reminder_id: int
    recipient_id: int
    kind: str
    offset_minutes: int
    due_at: datetime
    late: bool
    interrupted: bool
    session: SessionInfo

    @property
    def for_coach(self) -> bool:
        return self.recipient_id == self.session.coach_user_id and (
            self.recipient_id != self.session.student_id)


class SessionEffects(Protocol):
    """The Discord side of the lifecycle (implemented in `bot/lifecycle.py`)."""

    async def send_reminder(self, reminder: ReminderDelivery) -> Outcome: ...

    async def session_started(self, session: SessionInfo) -> Outcome: ...

    async def close_channel(self, session: SessionInfo, *, user_ids: Sequence[int],
                            delete_at: datetime) -> Outcome: ...

    async def remove_role(self, guild_id: int, user_id: int, role_id: int, *,
                          reason: str) -> Outcome: ...

    async def send_rating_request(self, session: SessionInfo, *, interrupted: bool,
                                  editable_until: datetime) -> Outcome: ...

    async def send_transcript(self, session: SessionInfo, recipient_id: int, *,
                              interrupted: bool) -> Outcome: ...

    async def delete_channels(self, session: SessionInfo) -> Outcome: ...


# ---------------------------------------------------------------- planning (in the booking's
# transaction)


async def preference_of(uow: PlanningUnitOfWork, user_id: int) -> ReminderPreference:
    row = await uow.preferences.get(user_id)
    if row is None:
        return ReminderPreference()
    offsets = row.reminder_offsets_minutes
    return ReminderPreference(bool(row.reminders_enabled),
                              None if offsets is None else clean_offsets(offsets))


async def plan_session(uow: PlanningUnitOfWork, booking: BookingRecord, *,
                       now: datetime) -> None:
    """Plan the reminders and timed tasks of a booking that just became confirmed. Call it in
    the transaction that confirms the booking; planning twice changes nothing."""
    offering = await uow.offerings.get(booking.offering_id)
    coach = await uow.coaches.get(booking.coach_id)
    if offering is None or coach is None:
        raise NotFound(f"Booking #{booking.id} lost its offering or coach.")
    planned = plan_session_reminders(
        booking.start_at, offering.reminder_offsets_minutes, student_id=booking.student_id,
        coach_user_id=coach.user_id, now=now,
        student=await preference_of(uow, booking.student_id))
    await uow.reminders.add_planned(booking.id, planned)
    await uow.session_tasks.add_planned(booking.id,
                                        plan_session_tasks(booking.start_at, booking.end_at))


async def replan_booking(uow_factory: UnitOfWorkFactory, booking_id: int, *,
                         now: datetime) -> None:
    """After a booking moved (reschedule): its reminders and timed tasks follow the new time.
    Reminders already sent for the old time are planned again for the new one."""
    async with uow_factory(immediate=True) as uow:
        context = await uow.provisioning.context(booking_id)
        if context is None:
            raise NotFound(f"Booking #{booking_id} does not exist.")
        booking = context.booking
        if booking.status not in REMINDED_STATUSES:
            await uow.reminders.skip_pending(booking_id)
            await uow.commit()
            return
        planned = plan_session_reminders(
            booking.start_at, context.offering.reminder_offsets_minutes,
            student_id=booking.student_id, coach_user_id=context.coach.user_id, now=now,
            student=await preference_of(uow, booking.student_id))
        await uow.reminders.replan(booking_id, planned, now=now, reset_sent=True)
        await uow.session_tasks.add_planned(booking_id,
                                            plan_session_tasks(booking.start_at, booking.end_at))
        await uow.session_tasks.set_due(booking_id, (TASK_START,), booking.start_at)
        await uow.session_tasks.set_due(booking_id, (TASK_END, TASK_CLOSE), booking.end_at)
        await uow.commit()


async def cancel_booking_work(uow_factory: UnitOfWorkFactory, booking_id: int, *,
                              now: datetime) -> None:
    """After a booking was cancelled: no more reminders or status changes; its channel is
    closed and its role released now, and the channel deleted after the retention."""
    async with uow_factory(immediate=True) as uow:
        await uow.reminders.skip_pending(booking_id)
        await uow.session_tasks.skip(booking_id, (TASK_START, TASK_RATING))
        await uow.session_tasks.add_planned(booking_id, [PlannedTask(TASK_END, now),
                                                         PlannedTask(TASK_CLOSE, now)])
        await uow.session_tasks.set_due(booking_id, (TASK_END, TASK_CLOSE), now,
                                        only_later=True)
        await uow.commit()


async def backfill(uow_factory: UnitOfWorkFactory, *, now: datetime, limit: int = 100
                   ) -> list[int]:
    """Plan the lifecycle of active bookings that have none (confirmed by code that did not
    plan it, or before this feature existed); their ids."""
    async with uow_factory(immediate=True) as uow:
        missing = await uow.bookings.missing_lifecycle(now, limit=limit)
        for booking_id in missing:
            booking = await uow.bookings.get(booking_id)
            if booking is not None:
                await plan_session(uow, booking, now=now)
        await uow.commit()
    return missing


async def next_due_times(uow_factory: UnitOfWorkFactory,
                         booking_ids: Collection[int] | None = None, *,
                         lease: timedelta = LEASE,
                         until: datetime | None = None) -> dict[int, datetime]:
    """The next time each booking (all, or `booking_ids`) has work to do; `until`: only
    bookings with work due by then."""
    async with uow_factory() as uow:
        reminders = await uow.reminders.next_due(booking_ids, lease=lease, until=until)
        tasks = await uow.session_tasks.next_due(booking_ids, lease=lease, until=until)
    merged = dict(reminders)
    for booking_id, due in tasks.items():
        merged[booking_id] = min(due, merged.get(booking_id, due))
    return merged


# ---------------------------------------------------------------- process_due


@dataclass
class DueReport:
    """What one `process_due` pass did (counts by outcome) and which bookings it touched."""

    reminders: Counter[str] = field(default_factory=Counter)
    tasks: Counter[str] = field(default_factory=Counter)
    touched: set[int] = field(default_factory=set)
    more: bool = False


@dataclass(frozen=True)
class Claimed:
    row: Any
    interrupted: bool


async def _claim(rows: TimedRows, *, now: datetime, worker: str, lease: timedelta,
                 limit: int) -> list[Claimed]:
    stale = now - lease
    claimed = []
    for row in await rows.due(now, stale_before=stale, limit=limit):
        interrupted = row.claimed_at is not None  # an earlier attempt never finished
        if await rows.claim(row.id, worker=worker, now=now, stale_before=stale):
            claimed.append(Claimed(row, interrupted=interrupted))
    return claimed


async def process_due(uow_factory: UnitOfWorkFactory, effects: SessionEffects, *,
                      now: datetime, worker: str, lease: timedelta = LEASE,
                      batch: int = BATCH, max_rounds: int = MAX_ROUNDS) -> DueReport:
    """Do every reminder and task due at `now` that no other process holds. Safe to run
    concurrently, in one process or several: each row is claimed before it is worked on."""
    report = DueReport()
    limit = asyncio.Semaphore(SEND_CONCURRENCY)
    for _ in range(max_rounds):
        async with uow_factory(immediate=True) as uow:  # SQLite: read-then-write, lock first
            tasks = await _claim(uow.session_tasks, now=now, worker=worker, lease=lease,
                                 limit=batch)
            reminders = await _claim(uow.reminders, now=now, worker=worker, lease=lease,
                                     limit=batch)
            await uow.commit()
        if not tasks and not reminders:
            return report
        for claimed in sorted(tasks, key=lambda c: (c.row.due_at, TASK_ORDER[c.row.kind],
                                                    c.row.id)):
            outcome = await _run_task(uow_factory, effects, claimed, now=now, worker=worker)
            report.tasks[f"{claimed.row.kind}:{outcome}"] += 1
            report.touched.add(claimed.row.booking_id)
        by_booking: dict[int, list[Claimed]] = defaultdict(list)
        for claimed in reminders:
            by_booking[claimed.row.booking_id].append(claimed)
        results = await asyncio.gather(*(
            _deliver_limited(limit, uow_factory, effects, b, g, now=now, worker=worker)
            for b, g in by_booking.items()))
        for booking_id, statuses in zip(by_booking, results, strict=True):
            report.reminders.update(statuses)
            report.touched.add(booking_id)
    report.more = True
    return report


# ---------------------------------------------------------------- reminders


async def _load(uow_factory: UnitOfWorkFactory, booking_id: int) -> SessionInfo | None:
    async with uow_factory() as uow:
        context = await uow.provisioning.context(booking_id)
    return session_info(context) if context is not None else None


async def _deliver_limited(limit: asyncio.Semaphore, uow_factory: UnitOfWorkFactory,
                           effects: SessionEffects, booking_id: int, group: list[Claimed], *,
                           now: datetime, worker: str) -> list[str]:
    async with limit:
        return await _deliver(uow_factory, effects, booking_id, group, now=now, worker=worker)


async def _deliver(uow_factory: UnitOfWorkFactory, effects: SessionEffects, booking_id: int,
                   group: list[Claimed], *, now: datetime, worker: str) -> list[str]:
    session = await _load(uow_factory, booking_id)
    results: list[tuple[Claimed, str]] = []
    sendable: list[Claimed] = []
    for claimed in group:
        reason = ("the booking no longer exists" if session is None else reminder_dropped(
            claimed.row.kind, session.status, session.start_at, session.end_at, now))
        if reason is None:
            sendable.append(claimed)
        else:
            log.info("reminder %s of booking %s dropped: %s", claimed.row.id, booking_id, reason)
            results.append((claimed, SKIPPED))
    keep, _superseded = latest_per_recipient([c.row for c in sendable])
    kept = {id(r) for r in keep}
    for claimed in sendable:
        if id(claimed.row) not in kept:
            log.info("reminder %s of booking %s superseded by a later one", claimed.row.id,
                     booking_id)
            results.append((claimed, SKIPPED))
            continue
        assert session is not None
        row = claimed.row
        delivery = ReminderDelivery(
            reminder_id=row.id, recipient_id=row.recipient_id, kind=row.kind,
            offset_minutes=row.offset_minutes, due_at=row.due_at,
            late=now - row.due_at > LATE_AFTER, interrupted=claimed.interrupted, session=session)
        outcome = await _attempt(effects.send_reminder(delivery), "reminder", row.id)
        if outcome.detail:
            log.info("reminder %s of booking %s: %s (%s)", row.id, booking_id, outcome.status,
                     outcome.detail)
        status = {DONE: SENT, SKIPPED: SKIPPED, FAILED: FAILED}.get(outcome.status, PENDING)
        results.append((claimed, status))
    async with uow_factory() as uow:
        for claimed, status in results:
            if status == PENDING:
                await uow.reminders.release(claimed.row.id, worker=worker)
            else:
                await uow.reminders.finish(claimed.row.id, worker=worker, status=status, at=now)
        await uow.commit()
    return [status for _, status in results]


async def _attempt(call: Any, what: str, row_id: int) -> Outcome:
    """Await an effect; an unexpected error becomes a retry (logged), never a lost row."""
    try:
        return await call
    except Exception as error:
        log.exception("%s %s: unexpected error", what, row_id)
        return Outcome.retry(f"unexpected error: {type(error).__name__}")


# ---------------------------------------------------------------- tasks


async def _run_task(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                    claimed: Claimed, *, now: datetime, worker: str) -> str:
    row = claimed.row
    async with uow_factory() as uow:
        context = await uow.provisioning.context(row.booking_id)
    if context is None:
        outcome = Outcome.skipped("the booking no longer exists")
    elif row.kind == TASK_END:
        return await _task_end(uow_factory, row, now=now, worker=worker)
    else:
        handler = _HANDLERS[row.kind]
        outcome = await _attempt(handler(uow_factory, effects, session_info(context), claimed,
                                         now), row.kind, row.id)
    return await _record_task(uow_factory, row, outcome, now=now, worker=worker)


async def _record_task(uow_factory: UnitOfWorkFactory, row: Any, outcome: Outcome, *,
                       now: datetime, worker: str) -> str:
    status = outcome.status
    if status == RETRY and row.attempts + 1 >= MAX_TASK_ATTEMPTS:
        status = FAILED
    if status == WAIT and now - row.due_at > GIVE_UP_WAITING:
        status = FAILED
    async with uow_factory() as uow:
        if status in (RETRY, WAIT):
            await uow.session_tasks.release(row.id, worker=worker, detail=outcome.detail,
                                            count_attempt=status == RETRY)
        else:
            await uow.session_tasks.finish(row.id, worker=worker, status=status, at=now,
                                           detail=outcome.detail)
        await uow.commit()
    if status in (RETRY, FAILED):
        log.warning("task %s of booking %s: %s (%s)", row.kind, row.booking_id, status,
                    outcome.detail)
    return status


async def _task_start(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                      session: SessionInfo, claimed: Claimed, now: datetime) -> Outcome:
    target = started_status(session.status)
    if target is not None:
        async with uow_factory(immediate=True) as uow:
            if await uow.bookings.transition(session.booking_id, (session.status,), target):
                await uow.bookings.record_status(session.booking_id, session.status, target,
                                                 at=now, actor_id=None,
                                                 reason="the session started")
            await uow.commit()
    elif session.status != "in_progress":
        return Outcome.skipped(f"the booking is {session.status.replace('_', ' ')}")
    return await effects.session_started(session)


async def _task_end(uow_factory: UnitOfWorkFactory, row: Any, *, now: datetime,
                    worker: str) -> str:
    """The status change at the end and the planning of what follows, in one transaction
    with the task's own completion."""
    async with uow_factory(immediate=True) as uow:
        context = await uow.provisioning.context(row.booking_id)
        assert context is not None
        booking = context.booking
        previous = booking.status
        target = ended_status(previous)
        completed = False
        if target is not None and await uow.bookings.transition(booking.id, (previous,),
                                                                target):
            await uow.bookings.record_status(booking.id, previous, target, at=now,
                                             actor_id=None, reason="the session ended")
            await uow.coaches.add_completed(booking.coach_id, 1)
            completed = True
        retention = (context.settings.channel_retention_days if context.settings is not None
                     else DEFAULT_RETENTION_DAYS)
        # A cancelled session ends when it is cancelled: the retention counts from then.
        ended = min(now, booking.end_at) if previous == "cancelled" else booking.end_at
        follow = plan_after_end(ended, retention,
                                completed=completed or previous == "completed",
                                has_channel=booking.text_channel_id is not None)
        await uow.session_tasks.add_planned(booking.id, follow)
        status = DONE if await uow.session_tasks.finish(row.id, worker=worker, status=DONE,
                                                        at=now) else SKIPPED
        await uow.commit()
    return status


async def _task_close(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                      session: SessionInfo, claimed: Claimed, now: datetime) -> Outcome:
    """Read-only channel for the participants whose session is over, and the role released."""
    notes = []
    if session.text_channel_id is not None:
        users = [session.student_id]
        async with uow_factory() as uow:
            mates = await uow.bookings.channel_mates(session.booking_id,
                                                     session.text_channel_id)
        if not any(status in REMINDED_STATUSES for _, status in mates):
            users.append(session.coach_user_id)
        ended = min(now, session.end_at) if session.status == "cancelled" else session.end_at
        closed = await effects.close_channel(session, user_ids=users,
                                             delete_at=deletion_due(ended,
                                                                    session.retention_days))
        if closed.status in (RETRY, WAIT):
            return closed
        if closed.detail:
            notes.append(closed.detail)
    released = await release_roles(uow_factory, effects, session, now=now)
    if released.status in (RETRY, WAIT):
        return released
    if released.detail:
        notes.append(released.detail)
    return Outcome.done("; ".join(notes) or None)


async def release_roles(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                        session: SessionInfo, *, now: datetime) -> Outcome:
    """Take back the roles this booking's student got from the bot, unless they held the role
    before or another upcoming or in-progress session of theirs needs it."""
    async with uow_factory() as uow:
        grants = [g for g in await uow.role_grants.for_booking(session.booking_id)
                  if g.removed_at is None]
        decisions = []
        for grant in grants:
            active = await uow.role_grants.active_for_member(grant.guild_id, grant.user_id,
                                                             grant.role_id)
            needed = await uow.bookings.others_needing_role(
                grant.guild_id, grant.user_id, grant.role_id,
                exclude_booking_id=session.booking_id, now=now)
            decision = role_decision(had_before=any(g.had_before for g in active),
                                     needed_elsewhere=bool(needed))
            decisions.append((grant, decision, [g.id for g in active]))
    notes = []
    for grant, decision, active_ids in decisions:
        if decision != REMOVE:
            notes.append(f"role {grant.role_id}: {decision}")
            continue
        outcome = await effects.remove_role(grant.guild_id, grant.user_id, grant.role_id,
                                            reason=f"Coachbot booking #{session.booking_id} "
                                                   "ended")
        if outcome.status in (RETRY, WAIT):
            return outcome
        if outcome.detail:
            notes.append(outcome.detail)
        async with uow_factory() as uow:
            await uow.role_grants.mark_removed(active_ids, now)
            await uow.commit()
    return Outcome.done("; ".join(notes) or None)


async def _task_rating(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                       session: SessionInfo, claimed: Claimed, now: datetime) -> Outcome:
    if session.status not in RATABLE_STATUSES:
        return Outcome.skipped(f"the booking is {session.status.replace('_', ' ')}")
    if now > session.end_at + RATING_WINDOW:
        return Outcome.skipped("too late to ask for a rating")
    return await effects.send_rating_request(
        session, interrupted=claimed.interrupted,
        editable_until=session.end_at + RATING_WINDOW)


async def _shared_channel_done_elsewhere(uow_factory: UnitOfWorkFactory, session: SessionInfo,
                                         ) -> str | None:
    """For seats of a group session sharing one channel: the channel (and the coach's
    transcript) is handled by the last seat; None when this booking is that one."""
    assert session.text_channel_id is not None
    async with uow_factory() as uow:
        mates = await uow.bookings.channel_mates(session.booking_id, session.text_channel_id)
        if not mates:
            return None
        if any(status in REMINDED_STATUSES for _, status in mates):
            return "another seat of this group session is still active"
        later = [b for b, _ in mates if b > session.booking_id]
        pending = await uow.session_tasks.pending_kinds(later, (TASK_DELETE,))
    if pending:
        return f"the channel is shared with booking #{pending[0][0]}, which cleans it up"
    return None


async def _task_transcript(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                           session: SessionInfo, claimed: Claimed, now: datetime) -> Outcome:
    if session.text_channel_id is None:
        return Outcome.skipped("the session has no text channel")
    if claimed.row.kind == TASK_TRANSCRIPT_STUDENT:
        recipient = session.student_id
    else:
        recipient = session.coach_user_id
        elsewhere = await _shared_channel_done_elsewhere(uow_factory, session)
        if elsewhere is not None:
            return Outcome.skipped(elsewhere)
    return await effects.send_transcript(session, recipient, interrupted=claimed.interrupted)


async def _task_delete(uow_factory: UnitOfWorkFactory, effects: SessionEffects,
                       session: SessionInfo, claimed: Claimed, now: datetime) -> Outcome:
    async with uow_factory() as uow:
        waiting = await uow.session_tasks.pending_kinds([session.booking_id], TRANSCRIPT_TASKS)
    if waiting:  # the transcripts go out first; a failed one no longer holds the deletion
        return Outcome.wait("waiting for the transcripts")
    if session.text_channel_id is not None:
        elsewhere = await _shared_channel_done_elsewhere(uow_factory, session)
        if elsewhere is not None:
            return Outcome.skipped(elsewhere)
    return await effects.delete_channels(session)


_HANDLERS: Final[Mapping[str, Any]] = {
    TASK_START: _task_start, TASK_CLOSE: _task_close, TASK_RATING: _task_rating,
    TASK_TRANSCRIPT_STUDENT: _task_transcript, TASK_TRANSCRIPT_COACH: _task_transcript,
    TASK_DELETE: _task_delete,
}


# ---------------------------------------------------------------- no-shows


@dataclass(frozen=True)
class NoShowResult:
    booking_id: int
    status: str
    previous: str


async def mark_no_show(uow_factory: UnitOfWorkFactory, booking_id: int, *, who: str,
                       actor_id: int, now: datetime) -> NoShowResult:
    """The coach marks that the student (or they themselves) did not show up."""
    if who not in NO_SHOW_STATUSES:
        raise InvalidInput("Mark a no-show of the `student` or the `coach`.")
    async with uow_factory(immediate=True) as uow:
        context = await uow.provisioning.context(booking_id)
        if context is None:
            raise NotFound("That session no longer exists.")
        booking = context.booking
        if actor_id != context.coach.user_id:
            raise NotAllowed("Only the coach of this session can mark a no-show.")
        check_no_show(booking.status, booking.start_at, booking.end_at, now)
        previous, target = booking.status, NO_SHOW_STATUSES[who]
        if not await uow.bookings.transition(booking_id, (previous,), target):
            raise Conflict("The session changed meanwhile. Try again.")
        await uow.bookings.record_status(booking_id, previous, target, at=now,
                                         actor_id=actor_id, reason=f"no-show of the {who}")
        if previous == "completed":
            await uow.coaches.add_completed(context.coach.id, -1)
        await uow.commit()
    return NoShowResult(booking_id, target, previous)


# ---------------------------------------------------------------- ratings


@dataclass(frozen=True)
class RatingResult:
    booking_id: int
    stars: int
    previous: int | None
    editable_until: datetime
    coach_rating_sum: int
    coach_rating_count: int


async def _ratable(uow: LifecycleUnitOfWork, booking_id: int,
                   user_id: int) -> SessionContext:
    context = await uow.provisioning.context(booking_id)
    if context is None:
        raise NotFound("That session no longer exists.")
    if user_id != context.booking.student_id:
        raise NotAllowed("Only the student of this session can rate it.")
    return context


async def rate_session(uow_factory: UnitOfWorkFactory, booking_id: int, *, user_id: int,
                       stars: int, now: datetime) -> RatingResult:
    """Give or change the student's rating; the coach's sum and count follow in the same
    transaction (one rating per session)."""
    check_stars(stars)
    async with uow_factory(immediate=True) as uow:
        context = await _ratable(uow, booking_id, user_id)
        booking, coach = context.booking, context.coach
        existing = await uow.ratings.for_booking(booking_id, for_update=True)
        check_can_rate(booking.status, booking.end_at, now,
                       existing.created_at if existing else None)
        if existing is None:
            created = await uow.ratings.create(booking_id=booking_id, student_id=user_id,
                                               coach_id=coach.id, stars=stars, at=now)
            if created is None:
                raise Conflict("Your rating was just saved from another click. Press the stars "
                               "again to change it.")
            await uow.coaches.add_rating(coach.id, stars_delta=stars, count_delta=1)
            previous, first_given = None, now
        else:
            previous, first_given = existing.stars, existing.created_at
            await uow.ratings.change(existing, at=now, stars=stars)
            await uow.coaches.add_rating(coach.id, stars_delta=stars - previous, count_delta=0)
        await uow.commit()
    async with uow_factory() as uow:
        fresh = await uow.coaches.get(coach.id)
        assert fresh is not None
        total, count = fresh.rating_sum, fresh.rating_count
    return RatingResult(booking_id, stars, previous, rating_editable_until(first_given),
                        total, count)


async def leave_feedback(uow_factory: UnitOfWorkFactory, booking_id: int, *, user_id: int,
                         text: str, now: datetime) -> None:
    """Written feedback on a rated session, under the same 7-day rule as the rating."""
    if len(text) > FEEDBACK_MAX:
        raise InvalidInput(f"Feedback can be at most {FEEDBACK_MAX} characters.")
    async with uow_factory(immediate=True) as uow:
        context = await _ratable(uow, booking_id, user_id)
        existing = await uow.ratings.for_booking(booking_id, for_update=True)
        if existing is None:
            raise NotAllowed("Rate the session with the stars first, then add feedback.")
        check_can_rate(context.booking.status, context.booking.end_at, now, existing.created_at)
        if text.strip():
            await uow.ratings.change(existing, at=now, feedback=text)
        else:
            await uow.ratings.change(existing, at=now, clear_feedback=True)
        await uow.commit()


# ---------------------------------------------------------------- /reminders


@dataclass(frozen=True)
class PreferenceChange:
    preference: ReminderPreference
    booking_ids: tuple[int, ...]  # upcoming bookings whose reminders were planned again


class Keep:
    """The offsets are not being changed."""


KEEP: Final = Keep()


async def change_reminder_preference(uow_factory: UnitOfWorkFactory, user_id: int, *,
                                     now: datetime, enabled: bool | None = None,
                                     offsets: tuple[int, ...] | Keep | None = KEEP
                                     ) -> PreferenceChange:
    """Store the student's choice and re-plan their reminders for upcoming sessions (sent
    reminders are left alone; only future ones change)."""
    values: dict[str, Any] = {}
    if enabled is not None:
        values["reminders_enabled"] = enabled
    if not isinstance(offsets, Keep):
        values["reminder_offsets_minutes"] = None if offsets is None else list(offsets)
    async with uow_factory(immediate=True) as uow:
        if values:
            await uow.preferences.update(user_id, **values)
        preference = await preference_of(uow, user_id)
        touched = []
        for booking in await uow.bookings.upcoming_for_student(user_id, now):
            offering = await uow.offerings.get(booking.offering_id)
            planned = plan_student_reminders(
                booking.start_at, offering.reminder_offsets_minutes if offering else (),
                student_id=user_id, now=now, preference=preference)
            await uow.reminders.replan(booking.id, planned, now=now, recipient_id=user_id)
            touched.append(booking.id)
        await uow.commit()
    return PreferenceChange(preference, tuple(touched))


async def reminder_preference(uow_factory: UnitOfWorkFactory,
                              user_id: int) -> ReminderPreference:
    async with uow_factory() as uow:
        return await preference_of(uow, user_id)
