"""Reading what a coach types into the offering wizard: each field's parsing, limits and the
message that says how to fix it. Pure functions; `scheduling.offerings` applies them to drafts.

User text is kept as given (an `@everyone` in a title stays an `@everyone`); only surrounding
whitespace and control characters are dropped, and single-line fields collapse inner whitespace.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Final
from urllib.parse import urlsplit

from scheduling.errors import InvalidInput
from scheduling.policy import Policy, make_policy

TITLE_MAX: Final = 100
DESCRIPTION_MAX: Final = 1000
QUESTION_LABEL_MAX: Final = 45  # Discord's limit for a text input's label in the booking modal
MAX_QUESTIONS: Final = 5
QUESTION_STYLES: Final = ("short", "paragraph")
URL_MAX: Final = 1024

DURATION_RANGE: Final = (15, 480)
CAPACITY_RANGE: Final = (1, 1000)
INTERVAL_RANGE: Final = (5, 720)
BUFFER_RANGE: Final = (0, 120)
NOTICE_RANGE: Final = (0, 30 * 1440)
WINDOW_DAYS_RANGE: Final = (1, 365)
LIMIT_RANGE: Final = (1, 1000)
MAX_REMINDERS: Final = 5
REMINDER_RANGE: Final = (5, 30 * 1440)
MAX_RESCHEDULES_RANGE: Final = (0, 10)
RESCHEDULE_NOTICE_RANGE: Final = (0, 1440)

# Uploaded thumbnails are stored in the database (Discord's attachment links expire).
THUMBNAIL_MAX_BYTES: Final = 1024 * 1024
IMAGE_TYPES: Final = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
                      "image/webp": "webp"}
IMAGE_EXTENSIONS: Final = frozenset({"png", "jpg", "jpeg", "gif", "webp"})
IMAGE_HINT: Final = "a PNG, JPEG, GIF or WebP picture"
# Discord attachment links stop working after about a day.
_EXPIRING_HOSTS: Final = ("cdn.discordapp.com", "media.discordapp.net")

COLOUR_NAMES: Final = {
    "red": 0xED4245, "orange": 0xE67E22, "yellow": 0xFEE75C, "gold": 0xF1C40F,
    "green": 0x57F287, "teal": 0x1ABC9C, "blue": 0x3498DB, "blurple": 0x5865F2,
    "purple": 0x9B59B6, "pink": 0xEB459E, "grey": 0x95A5A6, "gray": 0x95A5A6,
    "black": 0x23272A, "white": 0xFFFFFF,
}
_HEX = re.compile(r"^(?:#|0x)?(?P<hex>[0-9a-f]{6}|[0-9a-f]{3})$", re.IGNORECASE)

_UNIT_MINUTES: Final = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440,
}
_NEXT_SMALLER = {1440: 60, 60: 1, 1: 1}
_TOKEN = re.compile(r"\s*(?P<num>\d{1,6}(?:[.,]\d{1,3})?)\s*(?P<unit>[a-z]*)\s*", re.IGNORECASE)
_INTEGER = re.compile(r"^\s*\+?(?P<num>\d{1,9})\s*$")
_SIGNED = re.compile(r"^\s*-\s*\d")
_TIER = re.compile(
    r"^(?P<hours>\d{1,4})\s*h(?:ours?|rs?)?\s*(?:[:=>-]|before|->)?\s*(?P<percent>\d{1,3})\s*%?$",
    re.IGNORECASE,
)
_NONE_WORDS = frozenset({"none", "no", "off", "-"})


# ---------------------------------------------------------------- text


def _drop_controls(text: str, *, keep_newlines: bool) -> str:
    kept = []
    for char in text:
        if char == "\n" and keep_newlines:
            kept.append(char)
        elif unicodedata.category(char) == "Cc":
            kept.append(" " if char in "\t\r\n" else "")
        else:
            kept.append(char)
    return "".join(kept)


def single_line(text: str) -> str:
    """Control characters dropped and whitespace runs collapsed to one space."""
    return " ".join(_drop_controls(text, keep_newlines=False).split())


def clean_title(text: str) -> str:
    title = single_line(text)
    if not title:
        raise InvalidInput("Give the offering a title, for example `Manuscript review`.")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"The title is {len(title)} characters long; keep it to {TITLE_MAX}.")
    return title


def clean_description(text: str) -> str:
    description = _drop_controls(text, keep_newlines=True).strip()
    if not description:
        raise InvalidInput("Add a description: what the student gets from the session.")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"The description is {len(description)} characters long; keep it to "
                           f"{DESCRIPTION_MAX}.")
    return description


def _shown(text: str, limit: int = 40) -> str:
    shown = single_line(text).replace("`", "'")
    return (shown[:limit] + "…") if len(shown) > limit else (shown or "(empty)")


# ---------------------------------------------------------------- numbers and durations


def format_duration(minutes: int) -> str:
    """`45 min`, `1 h`, `1 h 30 min`, `2 days`, `1 day 2 h`."""
    if minutes <= 0:
        return "0 min"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts)


def format_minutes_input(minutes: int) -> str:
    """How a duration is prefilled into a form so that parse_minutes reads it back: `1h30`."""
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours}h{mins:02d}"
    if hours:
        return f"{hours}h"
    return str(mins)


def _range_error(what: str, low: int, high: int) -> InvalidInput:
    spelled = (f"{format_duration(low)} and {format_duration(high)}"
               if low and high >= 60 else f"{low} and {high} minutes")
    return InvalidInput(f"The {what} must be between {spelled} ({low} to {high} minutes).")


def parse_minutes(text: str, *, what: str, low: int, high: int) -> int:
    """`90`, `90m`, `1h30`, `1.5h`, `2 hours`, `1d` -> minutes; bare numbers are minutes."""
    raw = text.strip().lower()
    bad = InvalidInput(f"`{_shown(text)}` is not a {what}. Type minutes like `90` or hours "
                       "like `1h30` or `2h`.")
    if not raw:
        raise bad
    if _SIGNED.match(raw):
        raise _range_error(what, low, high)
    total = Decimal(0)
    position = 0
    previous_unit: int | None = None
    while position < len(raw):
        match = _TOKEN.match(raw, position)
        if match is None or match.end() == position:
            raise bad
        unit_text = match["unit"]
        if unit_text:
            unit = _UNIT_MINUTES.get(unit_text)
            if unit is None:
                raise bad
        else:
            unit = 1 if previous_unit is None else _NEXT_SMALLER[previous_unit]
        try:
            total += Decimal(match["num"].replace(",", ".")) * unit
        except InvalidOperation:
            raise bad from None
        previous_unit = unit
        position = match.end()
    if total != total.to_integral_value():
        raise InvalidInput(f"The {what} must be a whole number of minutes.")
    minutes = int(total)
    if not low <= minutes <= high:
        raise _range_error(what, low, high)
    return minutes


def parse_optional_minutes(text: str, *, what: str, low: int, high: int) -> int | None:
    """Like parse_minutes; empty means "not set" (None)."""
    if not text.strip() or text.strip().lower() in _NONE_WORDS | {"default", "auto"}:
        return None
    return parse_minutes(text, what=what, low=low, high=high)


def parse_int(text: str, *, what: str, low: int, high: int) -> int:
    match = _INTEGER.match(text)
    if match is None:
        if _SIGNED.match(text):
            raise InvalidInput(f"The {what} must be between {low} and {high}.")
        raise InvalidInput(f"`{_shown(text)}` is not a whole number. Type the {what} as a "
                           f"number from {low} to {high}.")
    value = int(match["num"])
    if not low <= value <= high:
        raise InvalidInput(f"The {what} must be between {low} and {high}.")
    return value


def parse_optional_limit(text: str, *, what: str) -> int | None:
    """A per-day or per-student maximum; empty (or `none`) means no limit."""
    if not text.strip() or text.strip().lower() in _NONE_WORDS:
        return None
    return parse_int(text, what=what, low=LIMIT_RANGE[0], high=LIMIT_RANGE[1])


def parse_reminders(text: str) -> list[int]:
    """`24h, 1h` -> [1440, 60] (longest first, duplicates dropped); empty or `none` -> []."""
    cleaned = text.strip().lower()
    if not cleaned or cleaned in _NONE_WORDS:
        return []
    parts = [p for p in re.split(r"\s*(?:,|;|\band\b|\n)\s*", cleaned) if p.strip()]
    if len(parts) > MAX_REMINDERS:
        raise InvalidInput(f"At most {MAX_REMINDERS} reminders per offering; you gave "
                           f"{len(parts)}.")
    offsets = {parse_minutes(part, what="reminder time", low=REMINDER_RANGE[0],
                             high=REMINDER_RANGE[1]) for part in parts}
    return sorted(offsets, reverse=True)


def format_reminders(offsets: list[int] | tuple[int, ...]) -> str:
    return ", ".join(format_minutes_input(m) for m in offsets)


# ---------------------------------------------------------------- look


def parse_colour(text: str) -> int | None:
    """`#5865F2`, `5865f2`, `#abc` or a name (`blue`, `green`, ...); empty -> no colour."""
    cleaned = text.strip().lower()
    if not cleaned or cleaned in _NONE_WORDS | {"default"}:
        return None
    if cleaned in COLOUR_NAMES:
        return COLOUR_NAMES[cleaned]
    match = _HEX.match(cleaned)
    if match is None:
        names = ", ".join(sorted(set(COLOUR_NAMES) - {"gray"}))
        raise InvalidInput(f"`{_shown(text)}` is not a colour. Use a hex code like `#5865F2` "
                           f"or one of: {names}.")
    digits = match["hex"]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits, 16)


def format_colour(value: int | None) -> str:
    return "" if value is None else f"#{value:06X}"


def _extension(path: str) -> str:
    return PurePosixPath(path).suffix.lower().lstrip(".")


def _http_url(text: str, *, what: str) -> str:
    url = text.strip()
    if len(url) > URL_MAX:
        raise InvalidInput(f"That {what} is longer than {URL_MAX} characters.")
    parts = urlsplit(url) if not any(c.isspace() for c in url) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"`{_shown(text)}` is not a web link. The {what} must start with "
                           "`https://` (or `http://`).")
    return url


def check_thumbnail_url(text: str) -> str | None:
    """A typed thumbnail link (empty -> none). Links to non-image files and to expiring
    Discord attachments are refused."""
    if not text.strip():
        return None
    url = _http_url(text, what="thumbnail link")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _EXPIRING_HOSTS:
        raise InvalidInput("Links to Discord attachments stop working after a day. Upload the "
                           "picture with the `thumbnail` option of `/offering create` or "
                           "`/offering edit` instead.")
    extension = _extension(parts.path)
    if extension and extension not in IMAGE_EXTENSIONS and "." in PurePosixPath(parts.path).name:
        raise InvalidInput(f"That link points to a `.{extension[:10]}` file, not an image. "
                           f"Link to {IMAGE_HINT}, or upload one with the `thumbnail` option.")
    return url


@dataclass(frozen=True)
class ImageUpload:
    """A checked thumbnail image, ready to store."""

    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _too_big(size: int) -> InvalidInput:
    return InvalidInput(f"That picture is {size / (1024 * 1024):.1f} MB; thumbnails can be at "
                        f"most {THUMBNAIL_MAX_BYTES // (1024 * 1024)} MB. Shrink it and try again.")


def check_image_attachment(filename: str, content_type: str | None, size: int) -> None:
    """Refuse an upload that is not an image by its content type or extension, or too big
    (before downloading it)."""
    declared = (content_type or "").split(";")[0].strip().lower()
    extension = _extension(filename) if "." in filename else ""
    if ((declared and declared not in IMAGE_TYPES) or (extension and extension not in
                                                       IMAGE_EXTENSIONS)
            or (not declared and not extension)):
        raise InvalidInput(f"`{_shown(filename)}` is not an image. Attach {IMAGE_HINT} "
                           f"(at most {THUMBNAIL_MAX_BYTES // (1024 * 1024)} MB).")
    if size > THUMBNAIL_MAX_BYTES:
        raise _too_big(size)


def sniff_image(data: bytes) -> str | None:
    """The image content type the bytes start with, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image_bytes(filename: str, content_type: str | None, data: bytes) -> ImageUpload:
    """The downloaded upload, checked by its name, declared type and actual bytes."""
    check_image_attachment(filename, content_type, len(data))
    actual = sniff_image(data)
    if actual is None:
        raise InvalidInput(f"`{_shown(filename)}` is not a readable image. Attach {IMAGE_HINT}.")
    return ImageUpload(actual, data)


# ---------------------------------------------------------------- questions, links, policy


@dataclass(frozen=True)
class Question:
    label: str
    style: str = "short"
    required: bool = True


def clean_question(label: str, style: str, required: bool) -> Question:
    text = single_line(label)
    if not text:
        raise InvalidInput("Type the question to ask, for example `What do you want to work on?`")
    if len(text) > QUESTION_LABEL_MAX:
        raise InvalidInput(f"Questions can be at most {QUESTION_LABEL_MAX} characters (Discord's "
                           f"limit for form labels); this one has {len(text)}.")
    if style not in QUESTION_STYLES:
        raise InvalidInput("A question is either `short` (one line) or `paragraph`.")
    return Question(text, style, bool(required))


def check_meeting_url(text: str) -> str:
    if not text.strip():
        raise InvalidInput("Type your meeting link, for example `https://zoom.us/j/123456789`.")
    return _http_url(text, what="meeting link")


def parse_refund_tiers(text: str) -> list[tuple[int, int]] | None:
    """`48h 100%, 24h 50%` -> [(48, 100), (24, 50)]; `none` -> [] (no refunds); empty -> None
    (use the server's default policy)."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if cleaned.lower() in _NONE_WORDS | {"no refunds"}:
        return []
    tiers = []
    for part in re.split(r"\s*[,;\n]\s*", cleaned):
        if not part:
            continue
        match = _TIER.match(part.strip())
        if match is None:
            raise InvalidInput(f"`{_shown(part)}` is not a refund rule. Write hours of notice "
                               "and the refund, like `48h 100%, 24h 50%` (`none`: no refunds).")
        tiers.append((int(match["hours"]), int(match["percent"])))
    return tiers


def parse_policy(tiers_text: str, reschedules_text: str, notice_text: str) -> Policy | None:
    """The offering's own cancellation policy, or None to inherit the server's."""
    tiers = parse_refund_tiers(tiers_text)
    if tiers is None:
        return None
    reschedules = (parse_int(reschedules_text, what="number of reschedules",
                             low=MAX_RESCHEDULES_RANGE[0], high=MAX_RESCHEDULES_RANGE[1])
                   if reschedules_text.strip() else 1)
    notice = (parse_int(notice_text.lower().removesuffix("h").removesuffix("hours").strip()
                        or "x", what="reschedule notice in hours",
                        low=RESCHEDULE_NOTICE_RANGE[0], high=RESCHEDULE_NOTICE_RANGE[1])
              if notice_text.strip() else 24)
    return make_policy(tiers, max_reschedules=reschedules, reschedule_min_notice_hours=notice)


def format_tiers(policy: Policy) -> str:
    if not policy.tiers:
        return "none"
    return ", ".join(f"{t.min_notice_hours}h {t.refund_percent}%" for t in policy.tiers)
