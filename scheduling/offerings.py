"""Offerings: the draft a coach builds in four steps, publishing, unpublishing and deleting.

A draft is an ``offerings`` row with ``status='draft'``; ``draft_step`` (1-4) remembers where the
wizard is, so the draft survives between steps and across a bot restart. Each step's form is
validated as a whole before anything is written. What a student will see is built here as an
``OfferingCard``; the cog only turns it into an embed.

Life cycle: draft -> published <-> unpublished -> deleted (soft; bookings keep their offering).
A never-published draft that the coach cancels is removed outright (nothing refers to it).
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from scheduling.coach_access import CoachAccessUnitOfWork, CoachRecord, require_coach
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotConfigured, NotFound
from scheduling.money import exponent, format_money, parse_price
from scheduling.offering_fields import (
    BUFFER_RANGE,
    CAPACITY_RANGE,
    DURATION_RANGE,
    IMAGE_TYPES,
    INTERVAL_RANGE,
    MAX_QUESTIONS,
    NOTICE_RANGE,
    WINDOW_DAYS_RANGE,
    ImageUpload,
    check_meeting_url,
    check_thumbnail_url,
    clean_description,
    clean_question,
    clean_title,
    format_colour,
    format_duration,
    format_minutes_input,
    format_reminders,
    format_tiers,
    parse_colour,
    parse_int,
    parse_minutes,
    parse_optional_limit,
    parse_optional_minutes,
    parse_policy,
    parse_reminders,
)
from scheduling.policy import DEFAULT_POLICY, Policy
from scheduling.schedules import ScheduleRecord, Schedules, resolve_schedule

STEPS: Final = {1: "Look", 2: "Checkout", 3: "Availability", 4: "Options"}
LAST_STEP: Final = 4
SESSION_TYPES: Final = {"video": "Video call", "audio": "Audio call", "phone": "Phone call"}
LOCATIONS: Final = {
    "discord": "Private Discord voice channel",
    "generated": "Video link generated for each session",
    "fixed": "The coach's own meeting link",
}
STATUS_LABELS: Final = {"draft": "Draft", "published": "Published",
                        "unpublished": "Unpublished", "deleted": "Deleted"}
STRIPE_MISSING: Final = (
    "Paid offerings need Stripe, which this bot is not set up with yet. The bot's host must set "
    "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET and restart it. Until then you can publish the "
    "offering for free (price `0`)."
)
DEFAULT_CURRENCY: Final = "USD"
MAX_AUTOCOMPLETE: Final = 25


# ---------------------------------------------------------------- ports


class OfferingRecord(Protocol):
    id: int
    guild_id: int
    coach_id: int
    schedule_id: int | None
    status: str
    draft_step: int
    title: str
    description: str
    thumbnail_url: str | None
    accent_colour: int | None
    price_minor: int
    currency: str
    duration_minutes: int
    session_type: str
    capacity: int
    interval_minutes: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    booking_window_days: int
    max_per_day: int | None
    max_per_student: int | None
    policy: dict[str, Any] | None
    reminder_offsets_minutes: list[int]
    location_kind: str
    location_url: str | None
    role_id: int | None
    allow_promotion_codes: bool


class QuestionRecord(Protocol):
    position: int
    label: str
    style: str
    required: bool


class ThumbnailInfo(Protocol):
    content_type: str
    size_bytes: int
    sha256: str


class Offerings(Protocol):
    async def get(self, offering_id: int) -> OfferingRecord | None: ...

    async def create(self, **fields: Any) -> OfferingRecord: ...

    async def update(self, offering: Any, **fields: Any) -> Any: ...

    async def delete(self, offering: Any) -> None: ...

    async def list_for_coach(self, coach_id: int, *, include_deleted: bool = False
                             ) -> Sequence[OfferingRecord]: ...

    async def questions(self, offering_id: int) -> Sequence[QuestionRecord]: ...

    async def replace_questions(self, offering_id: int,
                                questions: Sequence[tuple[str, str, bool]]) -> Any: ...

    async def owner_user_id(self, offering_id: int) -> int | None: ...

    async def set_thumbnail(self, offering_id: int, *, content_type: str, data_base64: str,
                            size_bytes: int, sha256: str) -> Any: ...

    async def thumbnail_info(self, offering_id: int) -> ThumbnailInfo | None: ...

    async def thumbnail_base64(self, offering_id: int) -> str | None: ...

    async def delete_thumbnail(self, offering_id: int) -> bool: ...

    async def count_future_active_bookings(self, offering_id: int, now: datetime) -> int: ...


class GuildSettingsRecord(Protocol):
    currency: str
    default_policy: dict[str, Any]


class GuildSettingsReader(Protocol):
    async def get(self, guild_id: int) -> GuildSettingsRecord | None: ...


class WindowRecord(Protocol):
    weekday: int


class OfferingSchedules(Schedules, Protocol):
    async def get(self, schedule_id: int) -> ScheduleRecord | None: ...

    async def windows(self, schedule_id: int) -> Sequence[WindowRecord]: ...


class OfferingsUnitOfWork(CoachAccessUnitOfWork, Protocol):
    offerings: Offerings
    guild_settings: GuildSettingsReader
    schedules: OfferingSchedules


# ---------------------------------------------------------------- forms (what the modals send)


@dataclass(frozen=True)
class LookForm:
    title: str
    thumbnail_url: str = ""
    colour: str = ""


@dataclass(frozen=True)
class CheckoutForm:
    description: str
    price: str
    duration: str
    capacity: str


@dataclass(frozen=True)
class TimingForm:
    interval: str
    buffer_before: str
    buffer_after: str
    notice: str
    window_days: str


@dataclass(frozen=True)
class LimitsForm:
    max_per_day: str
    max_per_student: str


@dataclass(frozen=True)
class PolicyForm:
    tiers: str
    max_reschedules: str = ""
    reschedule_notice_hours: str = ""


@dataclass(frozen=True)
class RoleFacts:
    """What Discord says about a role a coach picked for the offering."""

    role_id: int
    name: str
    is_everyone: bool
    managed: bool
    bot_can_assign: bool


# ---------------------------------------------------------------- what the cog shows


@dataclass(frozen=True)
class CardField:
    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True)
class Thumbnail:
    """An external link, or an uploaded image sent with the message as `filename`."""

    url: str | None = None
    filename: str | None = None
    size_bytes: int | None = None

    @property
    def embed_url(self) -> str:
        return self.url if self.url is not None else f"attachment://{self.filename}"


@dataclass(frozen=True)
class OfferingCard:
    """The card students see."""

    offering_id: int
    title: str
    description: str
    colour: int | None
    thumbnail: Thumbnail | None
    coach_name: str
    fields: tuple[CardField, ...]
    footer: str


@dataclass(frozen=True)
class QuestionView:
    position: int
    label: str
    style: str
    required: bool


@dataclass(frozen=True)
class WizardState:
    """Everything the wizard message shows for one offering at one step."""

    offering_id: int
    status: str
    step: int
    title: str
    card: OfferingCard
    settings: tuple[CardField, ...]  # the current step's values
    missing: tuple[str, ...]  # what publishing still needs
    questions: tuple[QuestionView, ...]
    schedules: tuple[tuple[int, str], ...]
    schedule_id: int | None
    session_type: str
    location_kind: str
    role_id: int | None
    has_thumbnail: bool
    allow_promotion_codes: bool = False
    form: Mapping[str, str] = field(default_factory=dict)  # modal prefills

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


@dataclass(frozen=True)
class PublishResult:
    card: OfferingCard
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class OfferingSummary:
    offering_id: int
    title: str
    status: str
    line: str


# ---------------------------------------------------------------- access


async def coach_for(uow: OfferingsUnitOfWork, *, guild_id: int, user_id: int,
                    role_ids: Collection[int], display_name: str,
                    avatar_url: str | None = None) -> CoachRecord:
    """The caller's coach profile; NotAllowed for members who are not coaches."""
    return await require_coach(uow, guild_id=guild_id, user_id=user_id, role_ids=role_ids,
                               display_name=display_name, avatar_url=avatar_url)


async def owner_of(uow: OfferingsUnitOfWork, offering_id: int) -> int | None:
    """The Discord user id of the coach who owns an offering (None: no such offering)."""
    return await uow.offerings.owner_user_id(offering_id)


async def load_owned(uow: OfferingsUnitOfWork, coach: CoachRecord,
                     offering_id: int) -> OfferingRecord:
    offering = await uow.offerings.get(offering_id)
    if offering is None or offering.status == "deleted":
        raise NotFound("That offering no longer exists. See yours with `/offering list`.")
    if offering.coach_id != coach.id or offering.guild_id != coach.guild_id:
        raise NotAllowed("That offering belongs to another coach.")
    return offering


async def find_owned(uow: OfferingsUnitOfWork, coach: CoachRecord, text: str) -> OfferingRecord:
    """An offering named in a command: the id an autocomplete choice sends, or a title."""
    wanted = text.strip()
    offerings = await uow.offerings.list_for_coach(coach.id)
    if wanted.isdecimal():
        for offering in offerings:
            if offering.id == int(wanted):
                return offering
    exact = [o for o in offerings if o.title.casefold() == wanted.casefold()]
    if len(exact) == 1:
        return exact[0]
    partial = [o for o in offerings if wanted.casefold() in o.title.casefold()]
    if len(exact) > 1 or (not exact and len(partial) > 1):
        raise InvalidInput("Several of your offerings match that name. Pick one from the list "
                           "that appears while you type.")
    if not exact and len(partial) == 1:
        return partial[0]
    if not offerings:
        raise NotFound("You have no offerings yet. Create one with `/offering create`.")
    raise NotFound("You have no offering with that name. Pick one from the list that appears "
                   "while you type, or see them all with `/offering list`.")


async def autocomplete_choices(uow: OfferingsUnitOfWork, coach: CoachRecord, typed: str,
                               *, statuses: Collection[str] | None = None
                               ) -> list[tuple[str, str]]:
    """(name, value) pairs for an offering option; value is the offering id."""
    needle = typed.strip().casefold()
    choices = []
    for offering in await uow.offerings.list_for_coach(coach.id):
        if statuses is not None and offering.status not in statuses:
            continue
        if needle and needle not in offering.title.casefold() and needle != str(offering.id):
            continue
        suffix = f" ({STATUS_LABELS[offering.status].lower()})"
        name = offering.title[:100 - len(suffix)] + suffix
        choices.append((name, str(offering.id)))
    return choices[:MAX_AUTOCOMPLETE]


async def drafts_of(uow: OfferingsUnitOfWork, coach: CoachRecord) -> list[OfferingRecord]:
    """The coach's unfinished drafts, most recent first."""
    offerings = await uow.offerings.list_for_coach(coach.id)
    return sorted((o for o in offerings if o.status == "draft"), key=lambda o: -o.id)


# ---------------------------------------------------------------- step 1: look


async def _guild_currency_and_policy(uow: OfferingsUnitOfWork, guild_id: int
                                     ) -> tuple[str, Policy]:
    settings = await uow.guild_settings.get(guild_id)
    if settings is None:
        return DEFAULT_CURRENCY, DEFAULT_POLICY
    return settings.currency, Policy.from_dict(settings.default_policy)


async def server_currency(uow: OfferingsUnitOfWork, guild_id: int) -> str:
    currency, _ = await _guild_currency_and_policy(uow, guild_id)
    return currency


def validate_look(form: LookForm) -> None:
    """Check step 1's form without writing anything (to refuse it before deferring)."""
    _look_fields(form)


def _look_fields(form: LookForm) -> dict[str, Any]:
    return {"title": clean_title(form.title), "accent_colour": parse_colour(form.colour),
            "thumbnail_url": check_thumbnail_url(form.thumbnail_url)}


async def create_draft(uow: OfferingsUnitOfWork, coach: CoachRecord, form: LookForm,
                       image: ImageUpload | None = None) -> OfferingRecord:
    """Step 1 of a new offering: validate the look and store the draft."""
    fields = _look_fields(form)
    currency, _ = await _guild_currency_and_policy(uow, coach.guild_id)
    if image is not None:
        fields["thumbnail_url"] = None
    offering = await uow.offerings.create(
        guild_id=coach.guild_id, coach_id=coach.id, status="draft", draft_step=1,
        currency=currency, **fields)
    if image is not None:
        await set_uploaded_thumbnail(uow, offering, image)
    return offering


async def update_look(uow: OfferingsUnitOfWork, offering: OfferingRecord, form: LookForm) -> None:
    """Title, colour and thumbnail link. A link replaces an uploaded picture; an empty link
    field keeps an uploaded picture (the form shows it empty) and clears a previous link."""
    fields = _look_fields(form)
    if fields["thumbnail_url"] is not None:
        await uow.offerings.delete_thumbnail(offering.id)
    elif await uow.offerings.thumbnail_info(offering.id) is not None:
        del fields["thumbnail_url"]
    await uow.offerings.update(offering, **fields)


async def set_uploaded_thumbnail(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                                 image: ImageUpload) -> None:
    """Store an uploaded picture (it replaces a thumbnail link)."""
    if image.content_type not in IMAGE_TYPES:
        raise InvalidInput("Thumbnails must be PNG, JPEG, GIF or WebP pictures.")
    await uow.offerings.set_thumbnail(
        offering.id, content_type=image.content_type,
        data_base64=base64.b64encode(image.data).decode("ascii"),
        size_bytes=len(image.data), sha256=image.sha256)
    await uow.offerings.update(offering, thumbnail_url=None)


async def clear_thumbnail(uow: OfferingsUnitOfWork, offering: OfferingRecord) -> None:
    await uow.offerings.delete_thumbnail(offering.id)
    await uow.offerings.update(offering, thumbnail_url=None)


async def toggle_promotion_codes(uow: OfferingsUnitOfWork, offering: OfferingRecord) -> None:
    """Let students enter Stripe promotion codes at checkout, or stop letting them."""
    await uow.offerings.update(offering, allow_promotion_codes=not offering.allow_promotion_codes)


async def thumbnail_bytes(uow: OfferingsUnitOfWork, offering_id: int) -> bytes | None:
    encoded = await uow.offerings.thumbnail_base64(offering_id)
    return None if encoded is None else base64.b64decode(encoded)


# ---------------------------------------------------------------- step 2: checkout


def _refuse_paid_without_stripe(offering: OfferingRecord, price_minor: int,
                                stripe_configured: bool) -> None:
    if price_minor > 0 and offering.status == "published" and not stripe_configured:
        raise NotConfigured(STRIPE_MISSING)


async def update_checkout(uow: OfferingsUnitOfWork, offering: OfferingRecord, form: CheckoutForm,
                          *, stripe_configured: bool) -> None:
    """Description, price (in the server's currency), duration and capacity, all or nothing.
    A published offering cannot become paid while Stripe is not configured."""
    description = clean_description(form.description)
    currency, _ = await _guild_currency_and_policy(uow, offering.guild_id)
    price = parse_price(form.price, currency)
    duration = parse_minutes(form.duration, what="duration", low=DURATION_RANGE[0],
                             high=DURATION_RANGE[1])
    capacity = parse_int(form.capacity, what="capacity (seats per session)",
                         low=CAPACITY_RANGE[0], high=CAPACITY_RANGE[1])
    _refuse_paid_without_stripe(offering, price.minor, stripe_configured)
    await uow.offerings.update(offering, description=description, price_minor=price.minor,
                               currency=price.currency, duration_minutes=duration,
                               capacity=capacity)


async def set_session_type(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                           session_type: str) -> None:
    if session_type not in SESSION_TYPES:
        raise InvalidInput("Pick video, audio or phone as the session type.")
    await uow.offerings.update(offering, session_type=session_type)


async def add_question(uow: OfferingsUnitOfWork, offering: OfferingRecord, label: str,
                       style: str, required: bool) -> None:
    question = clean_question(label, style, required)
    existing = await uow.offerings.questions(offering.id)
    if len(existing) >= MAX_QUESTIONS:
        raise InvalidInput(f"An offering can ask at most {MAX_QUESTIONS} questions. Remove one "
                           "before adding another.")
    kept = [(q.label, q.style, q.required) for q in existing]
    await uow.offerings.replace_questions(
        offering.id, [*kept, (question.label, question.style, question.required)])


async def ensure_room_for_question(uow: OfferingsUnitOfWork, offering: OfferingRecord) -> None:
    if len(await uow.offerings.questions(offering.id)) >= MAX_QUESTIONS:
        raise InvalidInput(f"An offering can ask at most {MAX_QUESTIONS} questions. Remove one "
                           "before adding another.")


async def remove_question(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                          position: int) -> None:
    existing = list(await uow.offerings.questions(offering.id))
    kept = [(q.label, q.style, q.required) for q in existing if q.position != position]
    if len(kept) == len(existing):
        raise NotFound("That question was already removed.")
    await uow.offerings.replace_questions(offering.id, kept)


# ---------------------------------------------------------------- step 3: availability


async def ensure_schedule(uow: OfferingsUnitOfWork, coach: CoachRecord,
                          offering: OfferingRecord) -> None:
    """Point the offering at the coach's default schedule (created if needed) unless it
    already uses one that still exists."""
    if offering.schedule_id is not None:
        current = await uow.schedules.get(offering.schedule_id)
        if current is not None and current.coach_id == coach.id:
            return
    default = await resolve_schedule(uow, coach, None)
    await uow.offerings.update(offering, schedule_id=default.id)


async def choose_schedule(uow: OfferingsUnitOfWork, coach: CoachRecord, offering: OfferingRecord,
                          schedule_id: int) -> None:
    schedule = await uow.schedules.get(schedule_id)
    if schedule is None or schedule.coach_id != coach.id:
        raise NotFound("That schedule no longer exists. Pick another one.")
    await uow.offerings.update(offering, schedule_id=schedule.id)


async def update_timing(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                        form: TimingForm) -> None:
    interval = parse_optional_minutes(form.interval, what="slot interval",
                                      low=INTERVAL_RANGE[0], high=INTERVAL_RANGE[1])
    before = parse_minutes(form.buffer_before or "0", what="buffer before",
                           low=BUFFER_RANGE[0], high=BUFFER_RANGE[1])
    after = parse_minutes(form.buffer_after or "0", what="buffer after",
                          low=BUFFER_RANGE[0], high=BUFFER_RANGE[1])
    notice = parse_minutes(form.notice or "0", what="minimum notice", low=NOTICE_RANGE[0],
                           high=NOTICE_RANGE[1])
    window = parse_int(form.window_days, what="booking window in days",
                       low=WINDOW_DAYS_RANGE[0], high=WINDOW_DAYS_RANGE[1])
    if notice >= window * 1440:
        raise InvalidInput(f"A minimum notice of {format_duration(notice)} leaves nothing to "
                           f"book in a {window}-day window. Lower the notice or widen the "
                           "window.")
    await uow.offerings.update(offering, interval_minutes=interval, buffer_before_minutes=before,
                               buffer_after_minutes=after, min_notice_minutes=notice,
                               booking_window_days=window)


async def update_limits(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                        form: LimitsForm) -> None:
    per_day = parse_optional_limit(form.max_per_day, what="maximum bookings per day")
    per_student = parse_optional_limit(form.max_per_student,
                                       what="maximum upcoming bookings per student")
    await uow.offerings.update(offering, max_per_day=per_day, max_per_student=per_student)


# ---------------------------------------------------------------- step 4: options


async def update_policy(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                        form: PolicyForm) -> None:
    policy = parse_policy(form.tiers, form.max_reschedules, form.reschedule_notice_hours)
    await uow.offerings.update(offering, policy=None if policy is None else policy.to_dict())


async def update_reminders(uow: OfferingsUnitOfWork, offering: OfferingRecord, text: str) -> None:
    await uow.offerings.update(offering, reminder_offsets_minutes=parse_reminders(text))


async def set_location(uow: OfferingsUnitOfWork, offering: OfferingRecord, kind: str,
                       url: str | None = None) -> None:
    if kind not in LOCATIONS:
        raise InvalidInput("Pick where sessions happen from the list.")
    location_url = check_meeting_url(url or "") if kind == "fixed" else None
    await uow.offerings.update(offering, location_kind=kind, location_url=location_url)


def check_role(role: RoleFacts) -> None:
    if role.is_everyone:
        raise InvalidInput("@everyone already has every member; pick a real role or none.")
    if role.managed:
        raise InvalidInput(f"`{role.name}` is managed by an integration and cannot be given "
                           "out. Pick another role.")
    if not role.bot_can_assign:
        raise InvalidInput(f"I cannot give out `{role.name}`: it sits above my own highest role "
                           "(or I lack Manage Roles). Ask an admin to move my role above it, or "
                           "pick another role.")


async def set_role(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                   role: RoleFacts | None) -> None:
    """The role students get while booked into this offering (None: no extra role)."""
    if role is not None:
        check_role(role)
    await uow.offerings.update(offering, role_id=None if role is None else role.role_id)


# ---------------------------------------------------------------- navigation


async def go_to_step(uow: OfferingsUnitOfWork, coach: CoachRecord, offering: OfferingRecord,
                     step: int) -> int:
    """Move the wizard to `step` (clamped to 1-4) and remember it."""
    step = max(1, min(LAST_STEP, step))
    if step == 3:
        await ensure_schedule(uow, coach, offering)
    if offering.draft_step != step:
        await uow.offerings.update(offering, draft_step=step)
    return step


async def discard_draft(uow: OfferingsUnitOfWork, offering: OfferingRecord) -> str:
    """Remove a never-published draft outright; returns its title."""
    if offering.status != "draft":
        raise Conflict("Only unpublished drafts can be discarded. To remove a published "
                       "offering use `/offering delete`.")
    title = offering.title
    await uow.offerings.delete(offering)
    return title


# ---------------------------------------------------------------- publishing


def missing_for_publish(offering: OfferingRecord) -> list[str]:
    missing = []
    if not offering.title.strip():
        missing.append("a title (step 1 · Look)")
    if not offering.description.strip():
        missing.append("a description (step 2 · Checkout)")
    if offering.location_kind == "fixed" and not offering.location_url:
        missing.append("your meeting link (step 4 · Options)")
    return missing


async def publish(uow: OfferingsUnitOfWork, coach: CoachRecord, offering: OfferingRecord, *,
                  stripe_configured: bool) -> PublishResult:
    if offering.status == "published":
        raise Conflict(f"**{offering.title}** is already published.")
    missing = missing_for_publish(offering)
    if missing:
        raise InvalidInput("Before publishing, add " + "; ".join(missing) +
                           ". Open the offering with `/offering edit`.")
    if offering.price_minor > 0 and not stripe_configured:
        raise NotConfigured(STRIPE_MISSING)
    if offering.schedule_id is None:
        await ensure_schedule(uow, coach, offering)
    await uow.offerings.update(offering, status="published")
    warnings = []
    schedule = (await uow.schedules.get(offering.schedule_id)
                if offering.schedule_id is not None else None)
    if schedule is not None and not await uow.schedules.windows(schedule.id):
        warnings.append(f"Your schedule `{schedule.name}` has no hours yet, so students see no "
                        "free times. Add some with `/availability add`.")
    return PublishResult(await card_for(uow, coach, offering), tuple(warnings))


async def unpublish(uow: OfferingsUnitOfWork, offering: OfferingRecord) -> None:
    """Hide from new bookings; existing bookings are not touched."""
    if offering.status != "published":
        raise Conflict(f"**{offering.title}** is not published, so there is nothing to hide.")
    await uow.offerings.update(offering, status="unpublished")


async def check_deletable(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                          now: datetime) -> None:
    """Refuse while sessions of the offering are still ahead (or running)."""
    upcoming = await uow.offerings.count_future_active_bookings(offering.id, now)
    if upcoming:
        sessions = "session is" if upcoming == 1 else "sessions are"
        raise Conflict(f"{upcoming} {sessions} still booked for **{offering.title}**, so it "
                       "cannot be deleted yet. Use `/offering unpublish` to stop new bookings; "
                       "delete it once those sessions are over.")


async def delete_offering(uow: OfferingsUnitOfWork, offering: OfferingRecord,
                          now: datetime) -> None:
    """Soft delete (status `deleted`): bookings keep pointing at it."""
    await check_deletable(uow, offering, now)
    await uow.offerings.update(offering, status="deleted")


# ---------------------------------------------------------------- presentation data


def effective_policy(offering: OfferingRecord, server_policy: Policy) -> tuple[Policy, bool]:
    """The policy that applies and whether it is the server's default."""
    if offering.policy is None:
        return server_policy, True
    return Policy.from_dict(offering.policy), False


def _price_text(offering: OfferingRecord) -> str:
    return format_money(offering.price_minor, offering.currency)


def _format_text(offering: OfferingRecord) -> str:
    kind = SESSION_TYPES.get(offering.session_type, offering.session_type)
    seats = ("1-on-1" if offering.capacity == 1
             else f"group of up to {offering.capacity}")
    return f"{kind} · {seats}"


def thumbnail_filename(offering_id: int, info: ThumbnailInfo) -> str:
    extension = IMAGE_TYPES.get(info.content_type, "png")
    return f"offering-{offering_id}-{info.sha256[:12]}.{extension}"


async def _thumbnail(uow: OfferingsUnitOfWork, offering: OfferingRecord) -> Thumbnail | None:
    info = await uow.offerings.thumbnail_info(offering.id)
    if info is not None:
        return Thumbnail(filename=thumbnail_filename(offering.id, info),
                         size_bytes=info.size_bytes)
    if offering.thumbnail_url:
        return Thumbnail(url=offering.thumbnail_url)
    return None


async def card_for(uow: OfferingsUnitOfWork, coach: CoachRecord,
                   offering: OfferingRecord) -> OfferingCard:
    _, server_policy = await _guild_currency_and_policy(uow, offering.guild_id)
    policy, _ = effective_policy(offering, server_policy)
    fields = (
        CardField("Price", _price_text(offering)),
        CardField("Duration", format_duration(offering.duration_minutes)),
        CardField("Format", _format_text(offering)),
        CardField("Where", LOCATIONS.get(offering.location_kind, offering.location_kind),
                  inline=False),
    )
    return OfferingCard(
        offering_id=offering.id, title=offering.title, description=offering.description,
        colour=offering.accent_colour, thumbnail=await _thumbnail(uow, offering),
        coach_name=coach.display_name, fields=fields,
        footer="Cancellation: " + "; ".join(policy.describe()))


def price_input(minor: int, currency: str) -> str:
    """A price as the coach would type it back: `25`, `25.50`, `3000`."""
    if minor == 0:
        return "0"
    places = exponent(currency)
    major = Decimal(minor).scaleb(-places)
    text = f"{major:.{places}f}"
    return text.removesuffix(".00") if places else text


def _optional(value: int | None, unit: str = "") -> str:
    return "no limit" if value is None else f"{value}{unit}"


async def _settings_for_step(uow: OfferingsUnitOfWork, offering: OfferingRecord, step: int,
                             questions: Sequence[QuestionRecord], thumbnail: Thumbnail | None
                             ) -> list[CardField]:
    if step == 1:
        if thumbnail is None:
            picture = "none"
        elif thumbnail.url is not None:
            picture = thumbnail.url
        else:
            picture = f"uploaded picture ({(thumbnail.size_bytes or 0) // 1024 + 1} KB)"
        return [CardField("Title", offering.title, inline=False),
                CardField("Thumbnail", picture[:1024], inline=False),
                CardField("Accent colour", format_colour(offering.accent_colour) or "default")]
    if step == 2:
        described = (f"{len(offering.description)} characters" if offering.description
                     else "missing")
        listed = "\n".join(
            f"{q.position + 1}. {q.label} ({q.style}, {'required' if q.required else 'optional'})"
            for q in questions) or "none"
        return [CardField("Description", described),
                CardField("Price", _price_text(offering)),
                CardField("Duration", format_duration(offering.duration_minutes)),
                CardField("Session type", SESSION_TYPES.get(offering.session_type, "?")),
                CardField("Capacity", "1 (1-on-1)" if offering.capacity == 1
                          else f"{offering.capacity} (group)"),
                CardField("Promotion codes", "students may enter one at checkout"
                          if offering.allow_promotion_codes else "not offered at checkout"),
                CardField(f"Questions ({len(questions)}/{MAX_QUESTIONS})", listed[:1024],
                          inline=False)]
    if step == 3:
        schedule = (await uow.schedules.get(offering.schedule_id)
                    if offering.schedule_id is not None else None)
        interval = (f"every {format_duration(offering.interval_minutes)}"
                    if offering.interval_minutes else
                    f"every {format_duration(offering.duration_minutes)} (the duration)")
        return [CardField("Schedule", schedule.name if schedule else "default"),
                CardField("Slot interval", interval),
                CardField("Buffers", f"{format_duration(offering.buffer_before_minutes)} before,"
                                     f" {format_duration(offering.buffer_after_minutes)} after"),
                CardField("Minimum notice", format_duration(offering.min_notice_minutes)),
                CardField("Booking window", f"{offering.booking_window_days} days ahead"),
                CardField("Max per day", _optional(offering.max_per_day)),
                CardField("Max per student", _optional(offering.max_per_student,
                                                       " upcoming"))]
    _, server_policy = await _guild_currency_and_policy(uow, offering.guild_id)
    policy, inherited = effective_policy(offering, server_policy)
    reminders = ", ".join(f"{format_duration(m)} before"
                          for m in offering.reminder_offsets_minutes) or "none"
    where = LOCATIONS.get(offering.location_kind, offering.location_kind)
    if offering.location_kind == "fixed":
        where += f": {offering.location_url or 'link missing'}"
    return [CardField("Cancellation policy" + (" (server default)" if inherited else ""),
                      "\n".join(policy.describe())[:1024], inline=False),
            CardField("Reminders", reminders),
            CardField("Where", where[:1024]),
            CardField("Role for booked students",
                      f"<@&{offering.role_id}>" if offering.role_id else "none"),
            CardField("Status", STATUS_LABELS.get(offering.status, offering.status))]


def _form(offering: OfferingRecord, policy: Policy, inherited: bool) -> dict[str, str]:
    return {
        "title": offering.title,
        "thumbnail_url": offering.thumbnail_url or "",
        "colour": format_colour(offering.accent_colour),
        "description": offering.description,
        "price": price_input(offering.price_minor, offering.currency),
        "duration": str(offering.duration_minutes),
        "capacity": str(offering.capacity),
        "interval": "" if offering.interval_minutes is None else str(offering.interval_minutes),
        "buffer_before": str(offering.buffer_before_minutes),
        "buffer_after": str(offering.buffer_after_minutes),
        "notice": format_minutes_input(offering.min_notice_minutes),
        "window_days": str(offering.booking_window_days),
        "max_per_day": "" if offering.max_per_day is None else str(offering.max_per_day),
        "max_per_student": ("" if offering.max_per_student is None
                            else str(offering.max_per_student)),
        "tiers": "" if inherited else format_tiers(policy),
        "max_reschedules": "" if inherited else str(policy.max_reschedules),
        "reschedule_notice": "" if inherited else str(policy.reschedule_min_notice_hours),
        "reminders": format_reminders(offering.reminder_offsets_minutes),
        "location_url": offering.location_url or "",
    }


async def wizard_state(uow: OfferingsUnitOfWork, coach: CoachRecord, offering: OfferingRecord,
                       step: int) -> WizardState:
    step = max(1, min(LAST_STEP, step))
    questions = list(await uow.offerings.questions(offering.id))
    card = await card_for(uow, coach, offering)
    settings = await _settings_for_step(uow, offering, step, questions, card.thumbnail)
    schedules = await uow.schedules.list_for_coach(coach.id)
    _, server_policy = await _guild_currency_and_policy(uow, offering.guild_id)
    policy, inherited = effective_policy(offering, server_policy)
    return WizardState(
        offering_id=offering.id, status=offering.status, step=step, title=offering.title,
        card=card, settings=tuple(settings), missing=tuple(missing_for_publish(offering)),
        questions=tuple(QuestionView(q.position, q.label, q.style, q.required)
                        for q in questions),
        schedules=tuple((s.id, s.name) for s in schedules), schedule_id=offering.schedule_id,
        session_type=offering.session_type, location_kind=offering.location_kind,
        role_id=offering.role_id, has_thumbnail=card.thumbnail is not None,
        allow_promotion_codes=bool(offering.allow_promotion_codes),
        form=_form(offering, policy, inherited))


async def summaries(uow: OfferingsUnitOfWork, coach: CoachRecord) -> list[OfferingSummary]:
    """One line per offering of the coach (deleted ones left out)."""
    out = []
    for offering in await uow.offerings.list_for_coach(coach.id):
        status = STATUS_LABELS.get(offering.status, offering.status)
        if offering.status == "draft":
            status += f", step {max(1, offering.draft_step)} of {LAST_STEP}"
        line = (f"{status} · {_price_text(offering)} · "
                f"{format_duration(offering.duration_minutes)} · {_format_text(offering)}")
        out.append(OfferingSummary(offering.id, offering.title, offering.status, line))
    return out

