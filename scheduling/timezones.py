"""IANA timezone lookup for people: match on city, region or abbreviation (`berlin`, `EST`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from scheduling.errors import InvalidInput

_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/",
            "Europe/", "Indian/", "Pacific/")


@dataclass(frozen=True)
class ZoneEntry:
    name: str
    city: str
    abbreviations: frozenset[str]


@cache
def _names() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _index() -> tuple[ZoneEntry, ...]:
    probes = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))
    entries = []
    for name in sorted(_names()):
        if not (name.startswith(_REGIONS) or name == "UTC"):
            continue
        zone = ZoneInfo(name)
        abbrevs = {p.astimezone(zone).tzname() or "" for p in probes}
        abbrevs = {a.upper() for a in abbrevs if a and a[0].isalpha()}
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        entries.append(ZoneEntry(name, city, frozenset(abbrevs)))
    return tuple(entries)


def search_timezones(query: str, *, limit: int = 25) -> list[str]:
    """Best matches first: exact name, city prefix, abbreviation, then anything containing it."""
    q = query.strip().lower().replace(" ", "_")
    if not q:
        popular = ["UTC", "America/New_York", "America/Chicago", "America/Los_Angeles",
                   "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo",
                   "Australia/Sydney"]
        return popular[:limit]
    q_city = q.replace("_", " ")
    ranked: list[tuple[int, str]] = []
    for entry in _index():
        name = entry.name.lower()
        if name == q:
            rank = 0
        elif entry.city == q_city:
            rank = 1
        elif entry.city.startswith(q_city):
            rank = 2
        elif q.upper() in entry.abbreviations:
            rank = 3
        elif q in name:
            rank = 4
        else:
            continue
        ranked.append((rank, entry.name))
    ranked.sort()
    return [name for _, name in ranked[:limit]]


def describe_timezone(name: str, now: datetime) -> str:
    """`Europe/Berlin (UTC+01:00, CET)` at the instant `now`."""
    local = now.astimezone(ZoneInfo(name))
    offset = local.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hh, mm = divmod(abs(minutes), 60)
    abbrev = local.tzname() or ""
    suffix = f", {abbrev}" if abbrev and abbrev[0].isalpha() and abbrev != "UTC" else ""
    return f"{name} (UTC{sign}{hh:02d}:{mm:02d}{suffix})"


def resolve_timezone(text: str) -> str:
    """The IANA name for what a user typed, or InvalidInput saying how to fix it."""
    cleaned = text.strip()
    if cleaned:
        if cleaned in _names():
            return cleaned
        lowered = cleaned.lower().replace(" ", "_")
        for entry in _index():
            if entry.name.lower() == lowered:
                return entry.name
        city_matches = [e.name for e in _index() if e.city == lowered.replace("_", " ")]
        if len(city_matches) == 1:
            return city_matches[0]
    shown = cleaned[:60] or "(empty)"
    raise InvalidInput(
        f"Unknown timezone `{shown}`. Pick one from the suggestions, "
        "for example `Europe/Berlin` or `America/New_York`."
    )
