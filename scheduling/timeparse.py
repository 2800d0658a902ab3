"""Parsing times of day as coaches type them: `9`, `9:30`, `9am`, `5:15 pm`, `17:00`, `24:00`."""

from __future__ import annotations

import re

from scheduling.errors import InvalidInput

_PATTERN = re.compile(
    r"^\s*(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?\s*m\.?)?\s*$",
    re.IGNORECASE,
)
MINUTES_PER_DAY = 1440


def _bad(text: str) -> InvalidInput:
    shown = text.strip()[:40] or "(empty)"
    return InvalidInput(
        f"`{shown}` is not a time of day. Use 24-hour times like `9`, `09:30`, `17:00` "
        "(`24:00` for midnight at the end of a day) or 12-hour times like `9am` or `5:15 pm`."
    )


def parse_time_of_day(text: str, *, allow_end_of_day: bool = True) -> int:
    """Minutes after midnight (0..1440). `24:00` is 1440, allowed only as an end time."""
    match = _PATTERN.match(text)
    if not match:
        raise _bad(text)
    hour = int(match["hour"])
    minute = int(match["minute"]) if match["minute"] else 0
    if minute > 59:
        raise _bad(text)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise _bad(text)
        is_pm = match["ampm"].lower().startswith("p")
        hour = hour % 12 + (12 if is_pm else 0)
    total = hour * 60 + minute
    if total == MINUTES_PER_DAY and allow_end_of_day:
        return total
    if hour > 23:
        raise _bad(text)
    return total


def parse_window(start_text: str, end_text: str) -> tuple[int, int]:
    """A start and end time of day; the end must come after the start."""
    start = parse_time_of_day(start_text, allow_end_of_day=False)
    end = parse_time_of_day(end_text)
    if end <= start:
        raise InvalidInput(
            f"The end ({format_minutes(end)}) must be after the start ({format_minutes(start)}). "
            "For hours past midnight, add one window until `24:00` and another from `0:00` "
            "on the next day."
        )
    return start, end


def format_minutes(minutes: int) -> str:
    """`09:30`; 1440 renders as `24:00`."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
