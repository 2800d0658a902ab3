"""What a confirmed booking needs on Discord, in which order, and the words it shows.

Pure: the Discord side (`bot/provisioning.py`) runs the steps this module plans, records each
one in `provisioning_steps` and asks this module for the session card, the channel names and
the message that tells an admin how to fix a failed step.

Steps, in order:

- ``role``: the offering's role, else the server's Coaching Access role (nothing to grant when
  neither is set; that counts as done);
- ``text_channel``: a private channel for the student, the coach and the bot;
- ``voice_channel``: only for video and audio sessions held on Discord;
- ``join_link``: for sessions held elsewhere: a new unguessable Jitsi room, or the coach's link;
- ``card``: the session card, posted in the private channel;
- ``dm_student`` / ``dm_coach``: the card and an ``.ics`` file by DM (closed DMs: the card goes
  to the private channel with a note instead, and the step counts as done).

A step's row is ``pending`` until it is ``done``; a failed attempt stays ``pending`` with its
error in ``last_error`` and is retried. ``failed`` is final: the session ended (or the booking
stopped being active) before the step could be done. For a done step, ``last_error`` keeps a
note on how it was done, if any (e.g. "DMs closed: card posted in the session channel").
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Final, Protocol

from scheduling import ics
from scheduling.money import Money
from scheduling.offering_fields import format_duration
from scheduling.offerings import SESSION_TYPES
from scheduling.policy import DEFAULT_POLICY, Policy
from scheduling.week_view import discord_timestamp

# ---------------------------------------------------------------- steps

ROLE: Final = "role"
TEXT_CHANNEL: Final = "text_channel"
VOICE_CHANNEL: Final = "voice_channel"
JOIN_LINK: Final = "join_link"
CARD: Final = "card"
DM_STUDENT: Final = "dm_student"
DM_COACH: Final = "dm_coach"
ALL_STEPS: Final = (ROLE, TEXT_CHANNEL, VOICE_CHANNEL, JOIN_LINK, CARD, DM_STUDENT, DM_COACH)

# A step waits for these (when they are part of the plan): the card and the DMs show the link.
DEPENDS_ON: Final[Mapping[str, tuple[str, ...]]] = {
    CARD: (TEXT_CHANNEL, VOICE_CHANNEL, JOIN_LINK),
    DM_STUDENT: (VOICE_CHANNEL, JOIN_LINK),
    DM_COACH: (VOICE_CHANNEL, JOIN_LINK),
}

PENDING: Final = "pending"
DONE: Final = "done"
FAILED: Final = "failed"

# Written to `last_error` when an attempt of a step with a Discord side effect starts. Still
# there on the next run means the process stopped mid-attempt: the channel or message may
# exist already, so the next attempt looks for it before creating another one.
IN_FLIGHT: Final = "attempt started; no result recorded (the bot stopped during it)"

# Bookings whose Discord side is provisioned (and retried).
PROVISIONED_STATUSES: Final = ("confirmed", "in_progress")
DISCORD_VOICE_TYPES: Final = frozenset({"video", "audio"})


def plan_steps(session_type: str, location_kind: str) -> tuple[str, ...]:
    """The steps a booking of this kind of offering needs, in the order they run."""
    steps = [ROLE, TEXT_CHANNEL]
    if location_kind == "discord" and session_type in DISCORD_VOICE_TYPES:
        steps.append(VOICE_CHANNEL)
    if location_kind in ("generated", "fixed"):
        steps.append(JOIN_LINK)
    steps += [CARD, DM_STUDENT, DM_COACH]
    return tuple(steps)


class StepRecord(Protocol):
    step: str
    status: str
    attempts: int
    last_error: str | None
    external_id: int | None


def unfinished(plan: Sequence[str], records: Collection[StepRecord]) -> list[str]:
    """Steps of the plan not done yet (never tried, or failed and waiting for a retry)."""
    done = {r.step for r in records if r.status == DONE}
    return [step for step in plan if step not in done]


def waiting_for(step: str, plan: Sequence[str], done: Collection[str]) -> tuple[str, ...]:
    """The planned steps `step` needs that are not done yet."""
    return tuple(d for d in DEPENDS_ON.get(step, ()) if d in plan and d not in done)


def was_interrupted(record: StepRecord | None) -> bool:
    """True when the last attempt started and never recorded a result (a crash or restart)."""
    return record is not None and record.status == PENDING and record.last_error == IN_FLIGHT


# ---------------------------------------------------------------- records it reads


class BookingRecord(Protocol):
    id: int
    guild_id: int
    offering_id: int
    coach_id: int
    student_id: int
    status: str
    start_at: datetime
    end_at: datetime
    slot_key: str
    answers: list[dict[str, Any]]
    reschedule_count: int
    text_channel_id: int | None
    voice_channel_id: int | None
    join_url: str | None


class OfferingRecord(Protocol):
    id: int
    title: str
    duration_minutes: int
    capacity: int
    session_type: str
    location_kind: str
    location_url: str | None
    role_id: int | None
    policy: dict[str, Any] | None


class CoachRecord(Protocol):
    id: int
    user_id: int
    display_name: str


class GuildSettingsRecord(Protocol):
    access_role_id: int | None
    category_id: int | None
    log_channel_id: int | None
    jitsi_base_url: str | None
    default_policy: dict[str, Any]


class RoleGrantRecord(Protocol):
    had_before: bool
    removed_at: datetime | None


class MaterialRecord(Protocol):
    kind: str
    title: str
    url: str | None
    body: str | None
    message_id: int | None


@dataclass(frozen=True)
class SessionLocation:
    """Where the session happens, as recorded on its booking (shared by a group's seats)."""

    text_channel_id: int | None = None
    voice_channel_id: int | None = None
    join_url: str | None = None


# ---------------------------------------------------------------- the ports it needs


class ProvisioningContext(Protocol):
    booking: BookingRecord
    offering: OfferingRecord
    coach: CoachRecord
    settings: GuildSettingsRecord | None
    steps: Sequence[StepRecord]


class ProvisioningSteps(Protocol):
    async def context(self, booking_id: int) -> ProvisioningContext | None: ...

    async def steps_for(self, booking_id: int) -> Sequence[StepRecord]: ...

    async def begin(self, booking_id: int, step: str) -> StepRecord: ...

    async def finish(self, booking_id: int, step: str, status: str, *,
                     external_id: int | None = None, detail: str | None = None,
                     count_attempt: bool = False) -> StepRecord: ...

    async def set_location(self, booking_id: int, **fields: Any) -> None: ...

    async def group_location(self, booking: BookingRecord) -> SessionLocation: ...

    async def unfinished_bookings(self, now: datetime, *, limit: int,
                                  guild_ids: Collection[int] | None = None
                                  ) -> Sequence[tuple[int, int]]: ...

    async def give_up_ended(self, now: datetime) -> int: ...


class RoleGrants(Protocol):
    async def for_booking(self, booking_id: int) -> Sequence[RoleGrantRecord]: ...

    async def active_for_member(self, guild_id: int, user_id: int,
                                role_id: int) -> Sequence[RoleGrantRecord]: ...

    async def record(self, *, guild_id: int, user_id: int, role_id: int, booking_id: int,
                     had_before: bool, granted_at: datetime) -> RoleGrantRecord: ...


class ProvisioningUnitOfWork(Protocol):
    provisioning: ProvisioningSteps
    role_grants: RoleGrants

    async def commit(self) -> None: ...


# ---------------------------------------------------------------- roles


def role_to_grant(offering_role_id: int | None, access_role_id: int | None
                  ) -> tuple[int | None, str]:
    """The role a booking gives its student and where it was configured ('offering' or
    'server'); (None, 'server') when there is nothing to grant."""
    if offering_role_id is not None:
        return offering_role_id, "offering"
    return access_role_id, "server"


def had_role_before(member_has_role: bool, grants: Sequence[RoleGrantRecord]) -> bool:
    """Whether the member holds the role for a reason other than the bot (so the bot must never
    take it away). A role the bot itself gave for an earlier booking, and has not removed, does
    not count: that earlier grant decides its removal."""
    if not member_has_role:
        return False
    return not any(g.removed_at is None and not g.had_before for g in grants)


# ---------------------------------------------------------------- join links

JITSI_ROOM_PREFIX: Final = "coachbot-"
NOTHING_TO_GRANT: Final = "nothing to grant: no Coaching Access role is set for this server"


def new_room_token() -> str:
    """144 random bits, URL-safe: nobody can guess or enumerate a session's room."""
    return secrets.token_urlsafe(18)


def generated_join_url(jitsi_base: str, token: str) -> str:
    return f"{jitsi_base.rstrip('/')}/{JITSI_ROOM_PREFIX}{token}"


def join_url_for(location_kind: str, *, fixed_url: str | None, jitsi_base: str,
                 shared_url: str | None = None, token: str | None = None) -> str | None:
    """The link students use to join: the coach's fixed link, or the group's existing room,
    or a new Jitsi room. None for sessions held on Discord (or a fixed link never set)."""
    if location_kind == "fixed":
        return fixed_url or None
    if location_kind == "generated":
        return shared_url or generated_join_url(jitsi_base, token or new_room_token())
    return None


def channel_url(guild_id: int, channel_id: int) -> str:
    """A link that opens a Discord channel (voice channels: joins it)."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}"


# ---------------------------------------------------------------- channels

CHANNEL_NAME_MAX: Final = 100
TOPIC_MAX: Final = 1024


def slugify(text: str, *, max_length: int = 40) -> str:
    """`Zoë O'Brien` -> `zoe-obrien`: lower-case ASCII letters, digits and single dashes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = folded.lower().replace("'", "")
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:max_length].strip("-")


def channel_prefix(booking_id: int) -> str:
    """Every channel made for a booking starts with this (how a retry finds one it made)."""
    return f"session-{booking_id}-"


def channel_name(booking_id: int, label: str) -> str:
    """`session-12-zoe-obrien`; the label is the student's name (a group's: the title)."""
    return (channel_prefix(booking_id) + (slugify(label) or "student"))[:CHANNEL_NAME_MAX]


def timestamp(moment: datetime, style: str = "F") -> str:
    """A Discord timestamp: every reader sees it in their own timezone."""
    return discord_timestamp(moment, style)


def channel_topic(booking_id: int, offering_title: str, coach_name: str,
                  start: datetime) -> str:
    topic = (f"{offering_title} with {coach_name}, {timestamp(start, 'F')} "
             f"(booking #{booking_id}). Private to the student, the coach and Coachbot.")
    return topic[:TOPIC_MAX]


# ---------------------------------------------------------------- the session card

EMBED_TITLE_MAX: Final = 256
FIELD_NAME_MAX: Final = 256
FIELD_VALUE_MAX: Final = 1024
ANSWER_MAX: Final = 700  # five long answers still fit Discord's 6,000 characters per embed
EMBED_BUDGET: Final = 5800
NO_ANSWER: Final = "—"


def card_marker(booking_id: int) -> str:
    """The session card's footer; also how a retry recognises a card it already sent."""
    return f"Booking #{booking_id}"


@dataclass(frozen=True)
class CardField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class SessionCard:
    booking_id: int
    title: str
    fields: tuple[CardField, ...]
    footer: str
    join_url: str | None
    start: datetime
    google_calendar_url: str | None = None  # "Add to Google Calendar" (issue 9)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def where_text(location_kind: str, location: SessionLocation) -> str:
    if location.join_url and location_kind in ("generated", "fixed"):
        return f"Online: {location.join_url}"
    if location.voice_channel_id is not None:
        return f"Voice channel <#{location.voice_channel_id}>"
    if location_kind == "discord" and location.text_channel_id is not None:
        return f"Session channel <#{location.text_channel_id}>"
    if location_kind == "fixed":
        return "The coach will share the meeting link in the session channel."
    return "On Discord"


def policy_of(offering: OfferingRecord, settings: GuildSettingsRecord | None) -> Policy:
    """The cancellation policy of the booking: the offering's own, else the server's."""
    if offering.policy is not None:
        return Policy.from_dict(offering.policy)
    return Policy.from_dict(settings.default_policy) if settings else DEFAULT_POLICY


def session_card(booking: BookingRecord, offering: OfferingRecord, coach: CoachRecord,
                 location: SessionLocation, *, paid: Money | None = None,
                 policy: Policy | None = None) -> SessionCard:
    """What the session card shows: who, when (Discord timestamps), the offering, the answers
    to its questions and how to join. Mentions render as names; they never ping in embeds."""
    when = f"{timestamp(booking.start_at, 'F')} ({timestamp(booking.start_at, 'R')})"
    kind = SESSION_TYPES.get(offering.session_type, offering.session_type)
    seats = "1-on-1" if offering.capacity == 1 else f"group of up to {offering.capacity}"
    fields = [
        CardField("Who", f"<@{booking.student_id}> with coach <@{coach.user_id}>"),
        CardField("When", when),
        CardField("Length", format_duration(offering.duration_minutes), inline=True),
        CardField("Session", f"{kind}, {seats}", inline=True),
        CardField("Where", _clip(where_text(offering.location_kind, location),
                                 FIELD_VALUE_MAX)),
    ]
    if location.text_channel_id is not None and offering.location_kind != "discord":
        fields.append(CardField("Session channel", f"<#{location.text_channel_id}>"))
    if paid is not None and paid.minor:
        fields.append(CardField("Paid", str(paid), inline=True))  # the receipt
    if policy is not None:  # shown with every confirmation, enforced by /cancel and /reschedule
        fields.append(CardField("Cancellation policy",
                                _clip("\n".join(policy.describe()), FIELD_VALUE_MAX)))
    used = sum(len(f.name) + len(f.value) for f in fields) + len(offering.title)
    for answer in booking.answers or []:
        label = _clip(str(answer.get("label") or "Question"), FIELD_NAME_MAX)
        value = _clip(str(answer.get("answer") or "").strip() or NO_ANSWER, ANSWER_MAX)
        if used + len(label) + len(value) > EMBED_BUDGET or len(fields) >= 25:
            break
        used += len(label) + len(value)
        fields.append(CardField(label, value))
    title = _clip(f"Session: {offering.title}", EMBED_TITLE_MAX)
    return SessionCard(booking_id=booking.id, title=title, fields=tuple(fields),
                       footer=card_marker(booking.id), join_url=location.join_url,
                       start=booking.start_at,
                       google_calendar_url=google_link(booking, offering, coach, location))


def google_link(booking: BookingRecord, offering: OfferingRecord, coach: CoachRecord,
                location: SessionLocation) -> str:
    """The card's "Add to Google Calendar" link (times in UTC, the join link as location)."""
    where = location.join_url or (
        channel_url(booking.guild_id, location.text_channel_id)
        if location.text_channel_id is not None else "Discord")
    details = f"{offering.title} with coach {coach.display_name}. Booked with Coachbot."
    return ics.google_calendar_link(title=f"{offering.title} with {coach.display_name}",
                                    start=booking.start_at, end=booking.end_at,
                                    details=details, location=where)


class PaidRecord(Protocol):
    status: str
    amount_minor: int
    currency: str


RECEIPT_STATUSES: Final = frozenset({"paid", "partially_refunded", "refunded"})


def amount_paid(payment: PaidRecord | None) -> Money | None:
    """What the student paid for the booking (the card's receipt line); None: nothing paid."""
    if payment is None or payment.status not in RECEIPT_STATUSES or not payment.amount_minor:
        return None
    return Money(payment.amount_minor, payment.currency)


# ---------------------------------------------------------------- materials (card button)


def materials_text(materials: Sequence[MaterialRecord], *, guild_id: int,
                   text_channel_id: int | None, limit: int = 1900) -> str:
    """The list the Materials button shows, with links; the empty case says so."""
    if not materials:
        return "No materials shared yet for this session."
    lines = [f"**Materials for this session** ({len(materials)}):"]
    for m in materials:
        link = m.url
        if link is None and m.message_id is not None and text_channel_id is not None:
            link = f"{channel_url(guild_id, text_channel_id)}/{m.message_id}"
        line = f"- {m.kind}: {m.title}"
        if link:
            line += f" <{link}>"
        elif m.body:
            line += f": {_clip(m.body.strip(), 200)}"
        lines.append(line)
    text = "\n".join(lines)
    return _clip(text, limit)


# ---------------------------------------------------------------- failures an admin can fix


class Problem(Enum):
    """Why a step could not be done, each with the fix an admin (or member) can apply."""

    NOT_IN_SERVER = "I am no longer in this server, so I cannot set up the session."
    MEMBER_LEFT = ("{member} is not a member of the server any more, so I cannot give them "
                   "access. They can rejoin; I will try again.")
    ROLE_DELETED = ("I could not give {member} the role {role}: it no longer exists. "
                    "Pick another one with {where}.")
    ROLE_UNASSIGNABLE = ("I could not give {member} the role {role}: it is managed by an "
                         "integration (or is @everyone), so no bot can assign it. Pick another "
                         "one with {where}.")
    NO_MANAGE_ROLES = ("I could not give {member} the role {role}: my role {bot_role} needs the "
                       "**Manage Roles** permission (Server Settings > Roles > {bot_role_name} "
                       "> Permissions).")
    ROLE_ABOVE_BOT = ("I could not give {member} the role {role}: my role {bot_role} must be "
                      "above it. Drag {bot_role_name} above it in Server Settings > Roles.")
    ROLE_REFUSED = ("I could not give {member} the role {role}: Discord refused "
                    "({error}). Check that my role {bot_role} has **Manage Roles** and is above "
                    "that role in Server Settings > Roles.")
    NO_MANAGE_CHANNELS = ("I could not create the private {what} channel: my role {bot_role} "
                          "needs the **Manage Channels** and **Manage Roles** permissions{place} "
                          "(Server Settings > Roles > {bot_role_name} > Permissions).")
    CHANNEL_REFUSED = ("I could not create the private {what} channel: Discord refused "
                       "({error}). Check that my role {bot_role} has **Manage Channels** and "
                       "**Manage Roles**{place}, or pick another category with "
                       "`/coaching setup`.")
    CHANNEL_GONE = ("The session channel was deleted, so I cannot post the session card there. "
                    "I will make a new channel on the next try.")
    CANNOT_POST = ("I could not post the session card in <#{channel_id}>: I need **View "
                   "Channel**, **Send Messages**, **Embed Links** and **Attach Files** there.")
    DM_CLOSED_NO_CHANNEL = ("{member} does not accept DMs and the session channel is not ready, "
                            "so their session details are waiting. I will post them in the "
                            "session channel once it exists.")
    DM_FAILED = "I could not DM {member} their session details: Discord said {error}."
    UNEXPECTED = ("Something went wrong on my side (error id `{error_id}`); I will try again. "
                  "If it keeps happening, give this id to the bot's host.")

    def text(self, **values: object) -> str:
        return self.value.format(**values)


@dataclass(frozen=True)
class StepProblem:
    """A failed attempt: the fix for the log channel and a short error kept on the step."""

    problem: Problem
    message: str
    error: str


def problem(kind: Problem, error: str | None = None, **values: object) -> StepProblem:
    message = kind.text(error=error or "", **values)
    return StepProblem(kind, message, error or kind.name.lower())


def log_line(booking_id: int, offering_title: str, start: datetime, message: str) -> str:
    """The log channel's line for a failed step: which booking, what to fix, that it retries."""
    return _clip(f"⚠️ Booking #{booking_id} ({offering_title}, {timestamp(start, 'F')}): "
                 f"{message} The booking stays confirmed; I retry every few minutes.", 2000)


def fixed_line(booking_id: int, steps: Sequence[str]) -> str:
    named = ", ".join(STEP_LABELS.get(s, s) for s in steps)
    return f"✅ Booking #{booking_id}: done now after an earlier failure: {named}."


STEP_LABELS: Final = {
    ROLE: "role", TEXT_CHANNEL: "private channel", VOICE_CHANNEL: "voice channel",
    JOIN_LINK: "join link", CARD: "session card", DM_STUDENT: "DM to the student",
    DM_COACH: "DM to the coach",
}


# ---------------------------------------------------------------- what the caller gets back


@dataclass(frozen=True)
class ProvisioningOutcome:
    """What provisioning achieved for one booking.

    ``done``: steps done (now or earlier); ``pending``: step -> why it is not done yet (it will
    be retried); ``notes``: step -> how a done step was done when it matters to the user
    (e.g. the student's DMs were closed). ``skipped`` explains why nothing ran (booking not
    active any more), else None.
    """

    booking_id: int
    done: tuple[str, ...] = ()
    pending: Mapping[str, str] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    location: SessionLocation = SessionLocation()
    skipped: str | None = None

    @property
    def complete(self) -> bool:
        return self.skipped is None and not self.pending

    @property
    def student_dm_delivered(self) -> bool:
        return DM_STUDENT in self.done and DM_STUDENT not in self.notes
