"""Private calendar feeds: `/calendar link` gives a member a secret URL
(``{public_url}/calendar/{token}.ics``) that calendar apps subscribe to; it lists the member's
upcoming sessions on that server, as coach and as student. `/calendar reset` rotates it.

Only the SHA-256 of the token is stored (like a password), so a link cannot be shown twice: a
member who lost theirs resets it. Unknown and rotated tokens find nothing (the web server
answers 404 and reveals nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from scheduling import ics
from scheduling.offerings import LOCATIONS, SESSION_TYPES

TOKEN_BYTES: Final = 32
TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{20,100}")
LISTED: Final = ("confirmed", "in_progress")
KEEP_PAST: Final = timedelta(days=1)  # a session stays in the feed until a day after it ends


class FeedRecord(Protocol):
    guild_id: int
    user_id: int
    token_hash: str


class BookingRecord(Protocol):
    id: int
    guild_id: int
    student_id: int
    status: str
    start_at: datetime
    end_at: datetime
    reschedule_count: int
    join_url: str | None
    text_channel_id: int | None


class OfferingRecord(Protocol):
    title: str
    session_type: str
    location_kind: str


class CoachRecord(Protocol):
    user_id: int
    display_name: str


class Feeds(Protocol):
    async def for_member(self, guild_id: int, user_id: int) -> FeedRecord | None: ...
    async def by_hash(self, token_hash: str) -> FeedRecord | None: ...
    async def replace(self, guild_id: int, user_id: int, token_hash: str,
                      at: datetime) -> FeedRecord: ...
    async def sessions(self, guild_id: int, user_id: int, statuses: tuple[str, ...],
                       ends_after: datetime, *, limit: int = 500,
                       ) -> Sequence[tuple[BookingRecord, OfferingRecord, CoachRecord]]: ...


class FeedUnitOfWork(Protocol):
    calendar_feeds: Feeds


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/calendar/{token}.ics"


@dataclass(frozen=True)
class FeedLink:
    url: str | None  # None: a link exists already and cannot be shown again
    created: bool


async def link(uow: FeedUnitOfWork, *, guild_id: int, user_id: int, public_url: str,
               now: datetime) -> FeedLink:
    """A new feed URL when the member has none yet; else say that one exists."""
    if await uow.calendar_feeds.for_member(guild_id, user_id) is not None:
        return FeedLink(url=None, created=False)
    return await reset(uow, guild_id=guild_id, user_id=user_id, public_url=public_url, now=now)


async def reset(uow: FeedUnitOfWork, *, guild_id: int, user_id: int, public_url: str,
                now: datetime) -> FeedLink:
    """A new feed URL; the old one (if any) stops working."""
    token = new_token()
    await uow.calendar_feeds.replace(guild_id, user_id, hash_token(token), now)
    return FeedLink(url=feed_url(public_url, token), created=True)


async def find(uow: FeedUnitOfWork, token: str) -> FeedRecord | None:
    """The feed of a token (None for malformed, unknown or rotated tokens)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    wanted = hash_token(token)
    feed = await uow.calendar_feeds.by_hash(wanted)
    if feed is None or not hmac.compare_digest(feed.token_hash, wanted):
        return None
    return feed


def _channel_url(guild_id: int, channel_id: int | None) -> str | None:
    return (f"https://discord.com/channels/{guild_id}/{channel_id}"
            if channel_id is not None else None)


async def feed_calendar(uow: FeedUnitOfWork, feed: FeedRecord, *, now: datetime,
                        name_of: Callable[[int], str], server_name: str) -> bytes:
    """The ``.ics`` of the feed: the member's sessions ending after a day ago."""
    rows = await uow.calendar_feeds.sessions(feed.guild_id, feed.user_id, LISTED,
                                             now - KEEP_PAST)
    events = [
        ics.SessionEvent(
            booking_id=b.id, title=o.title, start=b.start_at, end=b.end_at,
            coach=ics.Participant(c.user_id, c.display_name),
            student=ics.Participant(b.student_id, name_of(b.student_id)),
            session_type=SESSION_TYPES.get(o.session_type, o.session_type),
            join_url=b.join_url, where=LOCATIONS.get(o.location_kind),
            channel_url=_channel_url(b.guild_id, b.text_channel_id),
            sequence=b.reschedule_count)
        for b, o, c in rows]
    return ics.feed_calendar(events, name=f"Coaching sessions ({server_name})", now=now)
