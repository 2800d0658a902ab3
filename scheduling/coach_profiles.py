"""Coach profiles: validate and apply what a coach types into `/coach profile`, and the data of
the coach card that `/coach show` renders.

The profile form holds the free text (display name, bio, specialties, hourly rate, credentials);
the timezone, avatar URL and years of experience come as command options (Discord modals hold at
most five text inputs). Options left out keep their current value.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from scheduling.coach_access import (
    CoachGrantRecord,
    CoachRecord,
    is_granted,
    require_coach,
)
from scheduling.errors import InvalidInput, NotFound
from scheduling.money import exponent, format_money, parse_price
from scheduling.schedules import DEFAULT_SCHEDULE, ScheduleRecord
from scheduling.timezones import describe_timezone, resolve_timezone, search_timezones

MAX_DISPLAY_NAME = 80
MAX_BIO = 1000
MAX_SPECIALTIES = 10
MAX_SPECIALTY = 40
MAX_CREDENTIALS = 500
MAX_YEARS = 80
MAX_URL = 1024
DEFAULT_CURRENCY = "USD"  # the guild_settings column default
# Typed as the avatar URL to go back to the member's Discord avatar.
AVATAR_RESET_WORDS = frozenset({"discord", "reset", "none", "default"})
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_SPACES = re.compile(r"\s+")
_SPECIALTY_SEPARATORS = re.compile(r"[,\n]")


# ---------------------------------------------------------------- ports


class CoachProfileRecord(CoachRecord, Protocol):
    bio: str
    specialties: list[str]
    hourly_rate_minor: int | None
    currency: str
    years_experience: int | None
    credentials: str
    avatar_url: str | None
    rating_sum: int
    rating_count: int
    sessions_completed: int


class ProfileCoaches(Protocol):
    async def get_by_user(self, guild_id: int, user_id: int) -> CoachProfileRecord | None: ...

    async def create(self, *, guild_id: int, user_id: int, display_name: str,
                     timezone: str = "UTC", avatar_url: str | None = None
                     ) -> CoachProfileRecord: ...

    async def update_profile(self, coach: Any, **values: Any) -> CoachProfileRecord: ...


class CurrencySettings(Protocol):
    currency: str


class GuildCurrency(Protocol):
    async def get(self, guild_id: int) -> CurrencySettings | None: ...


class ProfileSchedules(Protocol):
    async def get_by_name(self, coach_id: int, name: str) -> ScheduleRecord | None: ...

    async def set_timezone(self, schedule_id: int, timezone: str) -> ScheduleRecord: ...


class Grants(Protocol):
    async def list_for_guild(self, guild_id: int) -> Sequence[CoachGrantRecord]: ...


class ProfileUnitOfWork(Protocol):
    coach_grants: Grants
    coaches: ProfileCoaches
    guild_settings: GuildCurrency
    schedules: ProfileSchedules


# ---------------------------------------------------------------- input


@dataclass(frozen=True)
class ProfileForm:
    """The free-text fields exactly as typed into the profile modal."""

    display_name: str
    bio: str = ""
    specialties: str = ""
    hourly_rate: str = ""
    credentials: str = ""


class _Reset:
    """The avatar option said "use my Discord avatar again"."""

    def __repr__(self) -> str:
        return "AVATAR_RESET"


AVATAR_RESET = _Reset()


@dataclass(frozen=True)
class ProfileOptions:
    """The command options, validated: None means "keep the current value"."""

    timezone: str | None = None
    avatar_url: str | _Reset | None = None
    years_experience: int | None = None


@dataclass(frozen=True)
class ProfileValues:
    """Everything a profile save writes."""

    display_name: str
    bio: str
    specialties: tuple[str, ...]
    hourly_rate_minor: int | None
    currency: str
    credentials: str


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _shown(text: str, limit: int = 40) -> str:
    text = _collapse(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_display_name(text: str) -> str:
    name = _collapse(text)
    if not name:
        raise InvalidInput("Your display name cannot be empty. Type the name students should "
                           "see on your coach card.")
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"Your display name is {len(name)} characters long; keep it to "
                           f"{MAX_DISPLAY_NAME} or fewer.")
    return name


def clean_bio(text: str) -> str:
    bio = text.replace("\r\n", "\n").strip()
    if len(bio) > MAX_BIO:
        raise InvalidInput(f"Your bio is {len(bio)} characters long; keep it to {MAX_BIO} or "
                           "fewer.")
    return bio


def clean_credentials(text: str) -> str:
    credentials = text.replace("\r\n", "\n").strip()
    if len(credentials) > MAX_CREDENTIALS:
        raise InvalidInput(f"Your credentials are {len(credentials)} characters long; keep "
                           f"them to {MAX_CREDENTIALS} or fewer.")
    return credentials


def normalise_specialties(text: str) -> tuple[str, ...]:
    """Comma separated (new lines count as commas): trimmed, inner spaces collapsed, empty items
    dropped, duplicates (ignoring case) dropped keeping the first spelling; at most
    ``MAX_SPECIALTIES`` of at most ``MAX_SPECIALTY`` characters each."""
    seen: set[str] = set()
    specialties: list[str] = []
    for raw in _SPECIALTY_SEPARATORS.split(text):
        item = _collapse(raw)
        if not item or item.casefold() in seen:
            continue
        if len(item) > MAX_SPECIALTY:
            raise InvalidInput(f"The specialty `{_shown(item)}` is {len(item)} characters long; "
                               f"keep each to {MAX_SPECIALTY} or fewer (separate them with "
                               "commas).")
        seen.add(item.casefold())
        specialties.append(item)
    if len(specialties) > MAX_SPECIALTIES:
        raise InvalidInput(f"You listed {len(specialties)} specialties; pick your "
                           f"{MAX_SPECIALTIES} most important (separated by commas).")
    return tuple(specialties)


def parse_hourly_rate(text: str, currency: str) -> int | None:
    """Minor units in ``currency``; an empty field means "do not show a rate"."""
    cleaned = text.strip()
    if not cleaned:
        return None
    shown = _shown(cleaned, 20)
    if "-" in cleaned:
        raise InvalidInput("An hourly rate cannot be negative. Type an amount like `40`, or "
                           "leave the field empty to hide your rate.")
    try:
        return parse_price(cleaned, currency).minor
    except InvalidInput as error:
        if "is not a price" in error.user_message:
            raise InvalidInput(
                f"`{shown}` is not an hourly rate. Type an amount in {currency} like `40` or "
                "`40.50`, or leave the field empty to hide your rate.") from None
        raise InvalidInput(f"Hourly rate: {error.user_message}") from None


def validate_form(form: ProfileForm, currency: str) -> ProfileValues:
    """The profile values for what was typed, or InvalidInput naming the first problem."""
    return ProfileValues(
        display_name=clean_display_name(form.display_name),
        bio=clean_bio(form.bio),
        specialties=normalise_specialties(form.specialties),
        hourly_rate_minor=parse_hourly_rate(form.hourly_rate, currency),
        currency=currency,
        credentials=clean_credentials(form.credentials),
    )


def validate_avatar_url(text: str) -> str | _Reset:
    """An http(s) link whose path looks like an image, or AVATAR_RESET for `discord`."""
    cleaned = text.strip()
    if cleaned.lower() in AVATAR_RESET_WORDS:
        return AVATAR_RESET
    problem = None
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        problem = "is not an http(s) link"
    elif len(cleaned) > MAX_URL or any(c.isspace() for c in cleaned):
        problem = "is not a usable link"
    elif not parts.path.lower().endswith(IMAGE_EXTENSIONS):
        problem = "does not look like an image"
    if problem is None:
        return cleaned
    raise InvalidInput(
        f"`{_shown(cleaned, 60) or '(empty)'}` {problem}. Give a direct link to a picture "
        "(https, ending in .png, .jpg, .jpeg, .gif or .webp), or leave `avatar_url` out to use "
        "your Discord avatar (`avatar_url: discord` switches back to it)."
    )


def validate_years(years: int | None) -> int | None:
    if years is None:
        return None
    if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= MAX_YEARS:
        raise InvalidInput(f"Years of experience must be a whole number from 0 to {MAX_YEARS}.")
    return years


def validate_options(timezone: str | None = None, avatar_url: str | None = None,
                     years_experience: int | None = None) -> ProfileOptions:
    """The command options, checked before the form opens so a typo is caught at once."""
    return ProfileOptions(
        timezone=resolve_timezone(timezone) if timezone is not None else None,
        avatar_url=validate_avatar_url(avatar_url) if avatar_url is not None else None,
        years_experience=validate_years(years_experience),
    )


def timezone_suggestions(query: str, now: datetime) -> list[tuple[str, str]]:
    """Autocomplete for timezones: (label with offset and abbreviation, IANA name), best first."""
    return [(describe_timezone(name, now)[:100], name) for name in search_timezones(query)[:25]]


# ---------------------------------------------------------------- reading and saving


async def server_currency(uow: ProfileUnitOfWork, guild_id: int) -> str:
    settings = await uow.guild_settings.get(guild_id)
    return settings.currency if settings is not None else DEFAULT_CURRENCY


def rate_as_typed(minor: int | None, currency: str) -> str:
    """The amount to prefill the form with: `40.50`, `3000`, or empty."""
    if minor is None:
        return ""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def form_for(coach: CoachProfileRecord) -> ProfileForm:
    """The form prefilled with the current profile."""
    return ProfileForm(
        display_name=coach.display_name[:MAX_DISPLAY_NAME],
        bio=coach.bio or "",
        specialties=", ".join(coach.specialties or ()),
        hourly_rate=rate_as_typed(coach.hourly_rate_minor, coach.currency),
        credentials=coach.credentials or "",
    )


async def _require_profile(uow: ProfileUnitOfWork, *, guild_id: int, user_id: int,
                           role_ids: Collection[int], member_name: str) -> CoachProfileRecord:
    coach = await require_coach(uow, guild_id=guild_id, user_id=user_id, role_ids=role_ids,
                                display_name=member_name)
    return cast(CoachProfileRecord, coach)


async def open_profile(uow: ProfileUnitOfWork, *, guild_id: int, user_id: int,
                       role_ids: Collection[int], member_name: str) -> ProfileForm:
    """The caller's profile as a prefilled form (NotAllowed for non-coaches). A profile made
    here for a first-time coach is only kept if the caller commits."""
    return form_for(await _require_profile(uow, guild_id=guild_id, user_id=user_id,
                                           role_ids=role_ids, member_name=member_name))


@dataclass(frozen=True)
class ProfileSaved:
    coach: CoachProfileRecord
    default_schedule_timezone_changed: bool


async def save_profile(
    uow: ProfileUnitOfWork, *, guild_id: int, user_id: int, role_ids: Collection[int],
    member_name: str, form: ProfileForm, options: ProfileOptions,
) -> ProfileSaved:
    """Check coach access again, validate everything, then write it. A new timezone is also
    the default schedule's (a coach's hours are read in their own zone)."""
    profile = await _require_profile(uow, guild_id=guild_id, user_id=user_id,
                                     role_ids=role_ids, member_name=member_name)
    currency = await server_currency(uow, guild_id)
    values = validate_form(form, currency)
    changes: dict[str, Any] = {
        "display_name": values.display_name,
        "bio": values.bio,
        "specialties": list(values.specialties),
        "hourly_rate_minor": values.hourly_rate_minor,
        "currency": currency,
        "credentials": values.credentials,
    }
    if options.years_experience is not None:
        changes["years_experience"] = options.years_experience
    if options.avatar_url is AVATAR_RESET:
        changes["avatar_url"] = None
    elif isinstance(options.avatar_url, str):
        changes["avatar_url"] = options.avatar_url
    schedule_changed = False
    if options.timezone is not None:
        changes["timezone"] = options.timezone
        default = await uow.schedules.get_by_name(profile.id, DEFAULT_SCHEDULE)
        if default is not None and default.timezone != options.timezone:
            await uow.schedules.set_timezone(default.id, options.timezone)
            schedule_changed = True
    saved = await uow.coaches.update_profile(profile, **changes)
    return ProfileSaved(saved, schedule_changed)


# ---------------------------------------------------------------- the coach card


@dataclass(frozen=True)
class CoachCard:
    user_id: int
    display_name: str
    bio: str
    specialties: tuple[str, ...]
    rate: str | None  # "$40.00/hour", "Free", or None when not shown
    rating: str  # "4.7 ★ (12 ratings)" or "No ratings yet"
    sessions_completed: int
    timezone: str  # "Europe/Berlin (UTC+01:00, CET)"
    avatar_url: str | None  # None: use the member's Discord avatar
    years_experience: int | None
    credentials: str


def rating_text(rating_sum: int, rating_count: int) -> str:
    if rating_count <= 0:
        return "No ratings yet"
    average = (Decimal(rating_sum) / Decimal(rating_count)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{average} ★ ({rating_count} rating{'' if rating_count == 1 else 's'})"


def rate_text(minor: int | None, currency: str) -> str | None:
    if minor is None:
        return None
    if minor == 0:
        return "Free"
    return f"{format_money(minor, currency)}/hour"


def coach_card(coach: CoachProfileRecord, now: datetime) -> CoachCard:
    try:
        zone = describe_timezone(coach.timezone, now)
    except (KeyError, ValueError, OSError):  # an unreadable stored zone; show it as is
        zone = coach.timezone
    return CoachCard(
        user_id=coach.user_id,
        display_name=coach.display_name,
        bio=coach.bio or "",
        specialties=tuple(coach.specialties or ()),
        rate=rate_text(coach.hourly_rate_minor, coach.currency),
        rating=rating_text(coach.rating_sum, coach.rating_count),
        sessions_completed=coach.sessions_completed,
        timezone=zone,
        avatar_url=coach.avatar_url,
        years_experience=coach.years_experience,
        credentials=coach.credentials or "",
    )


async def card_for_member(
    uow: ProfileUnitOfWork, *, guild_id: int, user_id: int, role_ids: Collection[int],
    member_name: str, now: datetime,
) -> CoachCard:
    """The card of a member who coaches in this server, or NotFound saying why there is none."""
    grants = await uow.coach_grants.list_for_guild(guild_id)
    coach = await uow.coaches.get_by_user(guild_id, user_id)
    if not is_granted(grants, user_id, role_ids):
        raise NotFound(f"{member_name} is not a coach on this server.")
    if coach is None:
        raise NotFound(f"{member_name} is a coach here but has not set up a profile yet "
                       "(`/coach profile`).")
    return coach_card(coach, now)
