"""What the `/book` flow needs beyond `scheduling.booking`: finding the coach and offering a
student named, who may book, the days with free times in the student's timezone, the times of
one day, the offering's questions, the summary shown before Confirm, and Confirm itself.

Times are computed in UTC and only labelled in a zone: the student's remembered one, else the
coach's (the schedule's), which the flow then says. Paid offerings stop at the summary: paying
needs the payments integration, and nothing is held for them here. Pure: storage comes in
through the Protocols below, `now` is an argument.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from scheduling.booking import (
    BookingRequest,
    Bookings,
    OfferingRecord,
    Schedules,
    UnitOfWorkFactory,
    check_student_limit,
    load_open_slots,
)
from scheduling.booking_rules import OpenSlot
from scheduling.browse import price_range
from scheduling.coach_access import CoachRecord
from scheduling.eligibility import StudentFacts, check_can_book
from scheduling.errors import InvalidInput, NotFound
from scheduling.money import format_money
from scheduling.offering_fields import format_duration
from scheduling.provisioning import DM_STUDENT, STEP_LABELS, ProvisioningOutcome, timestamp
from scheduling.timezones import describe_timezone, resolve_timezone

EXPIRES_AFTER: Final = timedelta(minutes=15)
MAX_DAYS: Final = 25  # a select holds 25 options
SLOTS_PER_PAGE: Final = 25
MAX_CHOICES: Final = 25
# check_can_book before a coach is chosen: no Discord id is 0, so nobody is "the coach" yet.
NO_COACH_YET: Final = 0
SHORT_ANSWER_MAX: Final = 200
PARAGRAPH_ANSWER_MAX: Final = 1000

EXPIRED: Final = ("This booking form is more than 15 minutes old, so its free times may be out "
                  "of date. Run `/book` again.")
PAYMENTS_NOT_READY: Final = (
    "**{title}** costs {price}. Paying for sessions is not available on this server yet: "
    "payments still have to be set up for the bot, so nothing was booked or reserved. "
    "Pick a free offering with `/book`, or ask the coach how to book this one.")


# ---------------------------------------------------------------- ports


class FlowCoachRecord(CoachRecord, Protocol):
    specialties: list[str]


class FlowCoaches(Protocol):
    async def get(self, coach_id: int) -> FlowCoachRecord | None: ...

    async def list_bookable(self, guild_id: int) -> Sequence[FlowCoachRecord]: ...


class QuestionRecord(Protocol):
    position: int
    label: str
    style: str
    required: bool


class FlowOfferings(Protocol):
    async def get(self, offering_id: int) -> OfferingRecord | None: ...

    async def list_published(self, guild_id: int) -> Sequence[OfferingRecord]: ...

    async def list_published_for_coach(self, coach_id: int) -> Sequence[OfferingRecord]: ...

    async def questions(self, offering_id: int) -> Sequence[QuestionRecord]: ...

    async def addons(self, offering_id: int) -> Sequence[AddonRecord]: ...


class RequiredRoleSettings(Protocol):
    required_role_id: int | None


class GuildSettingsReader(Protocol):
    async def get(self, guild_id: int) -> RequiredRoleSettings | None: ...


class Preferences(Protocol):
    async def timezone_of(self, user_id: int) -> str | None: ...

    async def set_timezone(self, user_id: int, timezone: str | None) -> Any: ...


class FlowUnitOfWork(Protocol):
    coaches: FlowCoaches
    offerings: FlowOfferings
    schedules: Schedules
    bookings: Bookings
    guild_settings: GuildSettingsReader
    preferences: Preferences

    async def commit(self) -> None: ...


# ---------------------------------------------------------------- plain data the flow keeps


class AddonRecord(Protocol):
    id: int
    name: str
    price_minor: int
    extra_minutes: int


@dataclass(frozen=True)
class AddonChoice:
    """An add-on the student may pick in the summary of a paid offering."""

    addon_id: int
    name: str
    price_minor: int
    extra_minutes: int = 0

    def extra_text(self, currency: str) -> str:
        """`+$9.00`, or `+$15.00, +30 min` for an add-on that lengthens the session."""
        price = f"+{format_money(self.price_minor, currency)}"
        return f"{price}, +{self.extra_minutes} min" if self.extra_minutes else price


@dataclass(frozen=True)
class Question:
    position: int
    label: str
    style: str  # short | paragraph
    required: bool

    @property
    def max_length(self) -> int:
        return PARAGRAPH_ANSWER_MAX if self.style == "paragraph" else SHORT_ANSWER_MAX


@dataclass(frozen=True)
class OfferingInfo:
    """A published offering as the flow shows it (no database rows kept between steps)."""

    offering_id: int
    guild_id: int
    title: str
    coach_id: int
    coach_user_id: int
    coach_name: str
    coach_zone: str  # the schedule's timezone: the coach's hours are wall-clock there
    duration_minutes: int
    price_minor: int
    currency: str
    capacity: int
    booking_window_days: int
    questions: tuple[Question, ...]
    addons: tuple[AddonChoice, ...] = ()  # paid offerings only

    @property
    def is_free(self) -> bool:
        return self.price_minor == 0

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    @property
    def price_text(self) -> str:
        return format_money(self.price_minor, self.currency)

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration_minutes)


@dataclass(frozen=True)
class ShownZone:
    """The timezone the flow labels days and times in, and whose it is."""

    name: str
    is_students: bool


@dataclass(frozen=True)
class DayOption:
    day: date
    count: int
    label: str  # "Tue 24 Nov · 5 times"


@dataclass(frozen=True)
class Summary:
    offering_id: int
    title: str
    coach_name: str
    coach_user_id: int
    start: datetime
    end: datetime
    duration_text: str
    price_text: str
    is_free: bool
    seats_left: int | None  # group sessions only
    answers: tuple[tuple[str, str], ...]


# ---------------------------------------------------------------- labels


def day_label(day: date, count: int) -> str:
    return f"{day:%a} {day.day} {day:%b} · {count} time{'' if count == 1 else 's'}"


def time_label(moment: datetime, zone: str) -> str:
    """`09:30` in `zone` (24-hour clock: no AM/PM ambiguity)."""
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M}"


def when_label(moment: datetime, zone: str) -> str:
    """`Tue 24 Nov 09:30` in `zone`."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def seats_text(seats_left: int) -> str:
    return f"{seats_left} seat{'' if seats_left == 1 else 's'} left"


def zone_note(zone: ShownZone, now: datetime) -> str:
    described = describe_timezone(zone.name, now)
    if zone.is_students:
        return f"Days and times in your timezone, {described}."
    return (f"Days and times in the coach's timezone, {described}, because I don't know "
            "yours yet. Run `/book timezone:` with your city to see them in your own.")


def is_expired(started_at: datetime, now: datetime) -> bool:
    return now - started_at > EXPIRES_AFTER




# ---------------------------------------------------------------- choosing coach and offering


def _matches(typed: str, *names: str) -> bool:
    needle = typed.strip().casefold()
    return not needle or any(needle in n.casefold() for n in names)


async def coach_choices(uow: FlowUnitOfWork, guild_id: int, typed: str
                        ) -> list[tuple[str, str]]:
    """(name, coach id) for the `coach` option: bookable coaches matching what was typed."""
    return [(c.display_name[:100], str(c.id)) for c in await uow.coaches.list_bookable(guild_id)
            if _matches(typed, c.display_name, *(c.specialties or ()))][:MAX_CHOICES]


async def offering_choices(uow: FlowUnitOfWork, guild_id: int, typed: str,
                           coach_text: str | None) -> list[tuple[str, str]]:
    """(name, offering id) for the `offering` option: published offerings matching what was
    typed, only the chosen coach's when the `coach` option names one."""
    coach = None
    if coach_text and coach_text.strip():
        try:
            coach = await find_coach(uow, guild_id, coach_text)
        except (NotFound, InvalidInput):
            return []
    if coach is not None:
        offerings = await uow.offerings.list_published_for_coach(coach.id)
        names = {coach.id: coach.display_name}
    else:
        offerings = await uow.offerings.list_published(guild_id)
        names = {c.id: c.display_name for c in await uow.coaches.list_bookable(guild_id)}
    choices = []
    for o in offerings:
        coach_name = names.get(o.coach_id, "")
        if not _matches(typed, o.title, coach_name):
            continue
        suffix = f" · {format_money(o.price_minor, o.currency)}"
        if coach is None:
            suffix = f" · {coach_name}{suffix}"
        choices.append(((o.title[:100 - len(suffix)] + suffix)[:100], str(o.id)))
    return choices[:MAX_CHOICES]


async def bookable_coaches(uow: FlowUnitOfWork, guild_id: int) -> list[FlowCoachRecord]:
    return list(await uow.coaches.list_bookable(guild_id))


async def find_coach(uow: FlowUnitOfWork, guild_id: int, text: str) -> FlowCoachRecord:
    """The bookable coach an option names: the id autocomplete sends, or a name."""
    wanted = text.strip()
    coaches = await uow.coaches.list_bookable(guild_id)
    if wanted.isdecimal():
        for coach in coaches:
            if coach.id == int(wanted):
                return coach
    exact = [c for c in coaches if c.display_name.casefold() == wanted.casefold()]
    partial = [c for c in coaches if wanted and wanted.casefold() in c.display_name.casefold()]
    found = exact if exact else partial
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise InvalidInput("Several coaches match that name. Pick one from the list that "
                           "appears while you type.")
    raise NotFound("No coach here with that name has anything to book. Pick one from the list "
                   "that appears while you type, or browse them with `/coaches`.")


async def published_offerings(uow: FlowUnitOfWork, coach_id: int) -> list[OfferingRecord]:
    return list(await uow.offerings.list_published_for_coach(coach_id))


async def find_offering(uow: FlowUnitOfWork, guild_id: int, text: str,
                        coach: CoachRecord | None = None) -> OfferingRecord:
    """The published offering an option names (the id autocomplete sends, or a title),
    among the coach's when a coach was chosen."""
    wanted = text.strip()
    if coach is not None:
        offerings = list(await uow.offerings.list_published_for_coach(coach.id))
    else:
        offerings = list(await uow.offerings.list_published(guild_id))
    if wanted.isdecimal():
        for offering in offerings:
            if offering.id == int(wanted):
                return offering
        if coach is not None:
            other = await uow.offerings.get(int(wanted))
            if other is not None and other.guild_id == guild_id and other.status == "published":
                raise InvalidInput(f"That offering is not {coach.display_name}'s. Leave the "
                                   "`coach` option out, or pick one of their offerings from "
                                   "the list.")
    exact = [o for o in offerings if o.title.casefold() == wanted.casefold()]
    partial = [o for o in offerings if wanted and wanted.casefold() in o.title.casefold()]
    found = exact if exact else partial
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise InvalidInput("Several offerings match that name. Pick one from the list that "
                           "appears while you type.")
    raise NotFound("Nothing bookable here matches that offering. Pick one from the list that "
                   "appears while you type, or browse the coaches with `/coaches`.")


async def _coach_zone(uow: FlowUnitOfWork, offering: OfferingRecord, coach: CoachRecord) -> str:
    schedule = None
    if offering.schedule_id is not None:
        schedule = await uow.schedules.get(offering.schedule_id)
    if schedule is None:
        schedule = await uow.schedules.get_by_name(offering.coach_id, "default")
    return schedule.timezone if schedule is not None else coach.timezone


async def published(uow: FlowUnitOfWork, offering_id: int, guild_id: int) -> OfferingRecord:
    offering = await uow.offerings.get(offering_id)
    if offering is None or offering.status != "published" or offering.guild_id != guild_id:
        raise NotFound("That offering is not available for booking any more. "
                       "Run `/book` again to see what the coach offers now.")
    return offering


async def offering_info(uow: FlowUnitOfWork, offering_id: int, guild_id: int) -> OfferingInfo:
    offering = await published(uow, offering_id, guild_id)
    coach = await uow.coaches.get(offering.coach_id)
    if coach is None:
        raise NotFound("That coach is not on this server any more. Run `/book` again.")
    questions = tuple(Question(q.position, q.label, q.style, q.required)
                      for q in await uow.offerings.questions(offering.id))
    return OfferingInfo(
        offering_id=offering.id, guild_id=offering.guild_id, title=offering.title,
        coach_id=coach.id, coach_user_id=coach.user_id, coach_name=coach.display_name,
        coach_zone=await _coach_zone(uow, offering, coach),
        duration_minutes=offering.duration_minutes, price_minor=offering.price_minor,
        currency=offering.currency, capacity=offering.capacity,
        booking_window_days=offering.booking_window_days, questions=questions,
        addons=await _addon_choices(uow, offering))


async def _addon_choices(uow: FlowUnitOfWork, offering: OfferingRecord
                         ) -> tuple[AddonChoice, ...]:
    """The add-ons a student can pick (paid offerings only); extra time is held with the slot
    when the student pays."""
    if offering.price_minor == 0:
        return ()
    return tuple(AddonChoice(a.id, a.name, a.price_minor, a.extra_minutes)
                 for a in await uow.offerings.addons(offering.id))


def chosen_addons(info: OfferingInfo, addon_ids: Sequence[int]) -> tuple[AddonChoice, ...]:
    """The picked add-ons that the offering still has, in the offering's order."""
    wanted = set(addon_ids)
    return tuple(a for a in info.addons if a.addon_id in wanted)


def addons_line(info: OfferingInfo, addon_ids: Sequence[int]) -> str | None:
    """`Add-ons: Recording (+$9.00). Total: $34.00`, or None when nothing is picked."""
    chosen = chosen_addons(info, addon_ids)
    if not chosen:
        return None
    names = ", ".join(f"{a.name} ({a.extra_text(info.currency)})" for a in chosen)
    total = info.price_minor + sum(a.price_minor for a in chosen)
    return f"Add-ons: {names}. Total: **{format_money(total, info.currency)}**."


# ---------------------------------------------------------------- who may book


async def check_eligible(uow: FlowUnitOfWork, student: StudentFacts, *, guild_id: int,
                         coach_user_id: int | None = None, offering_id: int | None = None,
                         now: datetime) -> None:
    """Everything that refuses a student before a time is shown: membership, screening, the
    server's required role, booking oneself, the offering's per-student limit."""
    settings = await uow.guild_settings.get(guild_id)
    check_can_book(student, coach_user_id=coach_user_id or NO_COACH_YET,
                   required_role_id=settings.required_role_id if settings else None)
    if offering_id is not None:
        offering = await published(uow, offering_id, guild_id)
        await check_student_limit(uow, offering, student.user_id, now)


# ---------------------------------------------------------------- timezone


def check_timezone(text: str | None) -> str | None:
    """The IANA name for the `timezone` option (None when left out); InvalidInput if unknown."""
    return None if text is None else resolve_timezone(text)


async def shown_zone(uow: FlowUnitOfWork, user_id: int, coach_zone: str,
                     given: str | None = None) -> ShownZone:
    """The zone to show times in: the one just given, else the student's remembered one,
    else the coach's. Reads only (see `remember_timezone`)."""
    if given is not None:
        return ShownZone(given, True)
    remembered = await uow.preferences.timezone_of(user_id)
    if remembered:
        return ShownZone(remembered, True)
    return ShownZone(coach_zone, False)


async def remember_timezone(uow: FlowUnitOfWork, user_id: int, timezone: str) -> None:
    """Keep the student's timezone for next time. The caller commits; on SQLite use a unit of
    work opened with `immediate=True` (this reads, then writes)."""
    if await uow.preferences.timezone_of(user_id) != timezone:
        await uow.preferences.set_timezone(user_id, timezone)


# ---------------------------------------------------------------- days and times


async def open_days(uow: FlowUnitOfWork, offering_id: int, guild_id: int, *, zone: str,
                    now: datetime, limit: int = MAX_DAYS) -> list[DayOption]:
    """The next days (in `zone`) with free times, at most `limit`, with how many each has."""
    offering = await published(uow, offering_id, guild_id)
    end = now + timedelta(days=offering.booking_window_days)
    slots = await load_open_slots(uow, offering, now=now, start=now, end=end)
    tz = ZoneInfo(zone)
    counts = Counter(slot.start.astimezone(tz).date() for slot in slots)
    return [DayOption(day, count, day_label(day, count))
            for day, count in sorted(counts.items())[:limit]]


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight of `day` in `zone`, in UTC (23 or 25 hours
    apart on DST days)."""
    tz = ZoneInfo(zone)
    return (datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC))


async def slots_of_day(uow: FlowUnitOfWork, offering_id: int, guild_id: int, day: date, *,
                       zone: str, now: datetime) -> list[OpenSlot]:
    offering = await published(uow, offering_id, guild_id)
    start, end = day_bounds(day, zone)
    return await load_open_slots(uow, offering, now=now, start=start, end=end)


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Pick a day from the list.") from None


def parse_start(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput("Pick a time from the list.") from None


def slot_value(slot: OpenSlot) -> str:
    return str(int(slot.start.timestamp()))


# ---------------------------------------------------------------- questions and summary


def clean_answers(info: OfferingInfo, typed: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(question, answer) pairs, answers kept as typed apart from surrounding whitespace;
    InvalidInput when a required one is empty (Discord enforces it, this is the guard)."""
    answers = []
    for question, text in zip(info.questions, typed, strict=True):
        answer = text.strip()
        if question.required and not answer:
            raise InvalidInput(f"Please answer “{question.label}”.")
        answers.append((question.label, answer[:question.max_length]))
    return tuple(answers)


def summary(info: OfferingInfo, start: datetime, answers: tuple[tuple[str, str], ...],
            seats_left: int | None = None) -> Summary:
    return Summary(
        offering_id=info.offering_id, title=info.title, coach_name=info.coach_name,
        coach_user_id=info.coach_user_id, start=start,
        end=start + timedelta(minutes=info.duration_minutes), duration_text=info.duration_text,
        price_text=info.price_text, is_free=info.is_free,
        seats_left=seats_left if info.is_group else None, answers=answers)


def payments_not_ready(info: OfferingInfo) -> str:
    return PAYMENTS_NOT_READY.format(title=info.title, price=info.price_text)


async def paid_request(uow_factory: UnitOfWorkFactory, student: StudentFacts, *, guild_id: int,
                       offering_id: int, start: datetime, answers: tuple[tuple[str, str], ...],
                       now: datetime) -> BookingRequest:
    """Eligibility again for a paid offering, then what to hold while the student pays."""
    async with uow_factory() as uow:  # read only
        info = await offering_info(uow, offering_id, guild_id)
        await check_eligible(uow, student, guild_id=guild_id,
                             coach_user_id=info.coach_user_id, offering_id=offering_id, now=now)
    return BookingRequest(offering_id, student.user_id, start, answers)


def pay_message(title: str, amount: str, expires_at: datetime) -> str:
    unix = int(expires_at.timestamp())
    return (f"Your time for **{title}** is held for you until <t:{unix}:t> (<t:{unix}:R>). "
            f"Pay {amount} with the button below; your private channel, role and calendar "
            "invite arrive as soon as the payment does. If you don't pay in time, the time "
            "is freed and nothing is charged.")


# ---------------------------------------------------------------- select options


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    description: str


async def coach_options(uow: FlowUnitOfWork, guild_id: int) -> list[Option]:
    """Every bookable coach with how many offerings they have and their prices."""
    by_coach: dict[int, list[OfferingRecord]] = {}
    for offering in await uow.offerings.list_published(guild_id):
        by_coach.setdefault(offering.coach_id, []).append(offering)
    options = []
    for coach in await uow.coaches.list_bookable(guild_id):
        offerings = by_coach.get(coach.id, [])
        count = f"{len(offerings)} offering{'' if len(offerings) == 1 else 's'}"
        options.append(Option(str(coach.id), coach.display_name[:100],
                              f"{count} · {price_range(offerings)}"[:100]))
    return options


def offering_option(offering: OfferingRecord) -> Option:
    parts = [format_duration(offering.duration_minutes),
             format_money(offering.price_minor, offering.currency)]
    if offering.capacity > 1:
        parts.append(f"group of up to {offering.capacity}")
    return Option(str(offering.id), offering.title[:100], " · ".join(parts)[:100])


# ---------------------------------------------------------------- after Confirm


SETUP_CRASHED: Final = ("Setting up your private channel and sending the details ran into a "
                        "problem on my side; I retry automatically. Your booking is confirmed "
                        "either way.")


def booked_message(info: OfferingInfo, start: datetime,
                   outcome: ProvisioningOutcome | None) -> str:
    """What the student reads once booked: when, the private channel, how to join, where the
    details went, and whether some Discord setup is still being retried (`outcome` None: the
    setup itself failed unexpectedly)."""
    lines = [f"✅ You're booked: **{info.title}** with **{info.coach_name}**, "
             f"{timestamp(start, 'F')} ({timestamp(start, 'R')})."]
    if outcome is None:
        return "\n".join([*lines, SETUP_CRASHED])
    location = outcome.location
    if location.text_channel_id is not None:
        lines.append(f"Your private session channel: <#{location.text_channel_id}>")
    if location.join_url:
        lines.append(f"Join link: {location.join_url}")
    elif location.voice_channel_id is not None:
        lines.append(f"Voice channel for the session: <#{location.voice_channel_id}>")
    if outcome.student_dm_delivered:
        lines.append("I sent you a DM with the details and a calendar file.")
    elif DM_STUDENT in outcome.notes and location.text_channel_id is not None:
        lines.append(f"Your DMs are closed, so the details and the calendar file are in "
                     f"<#{location.text_channel_id}> instead.")
    if outcome.pending:
        unfinished = ", ".join(STEP_LABELS.get(step, step) for step in outcome.pending)
        lines.append(f"Still being set up on Discord: {unfinished}. Your booking is confirmed; "
                     "I retry automatically and the server's admins know what to fix.")
    return "\n".join(lines)
