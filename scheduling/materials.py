"""Materials of a session: notes, outlines, homework, manuscripts, recordings, ... shared by the
student or the coach of a booking.

Files stay Discord attachments posted in the session's private channel; the database keeps the
reference (link, message id, uploader, kind, time). Only the two participants may add
materials; the participants and the server's admins may list and open them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol
from urllib.parse import urlsplit

from scheduling.errors import InvalidInput, NotAllowed, NotFound

KINDS: Final = ("notes", "outline", "homework", "manuscript", "recording", "other")
TITLE_MAX: Final = 200
TEXT_MAX: Final = 4000
LINK_MAX: Final = 2000
SHAREABLE: Final = ("confirmed", "in_progress", "completed", "no_show_student", "no_show_coach")
NOT_A_PARTICIPANT: Final = ("Only the student and the coach of this session (and server admins) "
                            "can see its materials.")
ONLY_PARTICIPANTS_ADD: Final = "Only the student and the coach of this session can add materials."


class BookingRecord(Protocol):
    id: int
    guild_id: int
    student_id: int
    status: str
    start_at: datetime
    text_channel_id: int | None


class SessionRecord(Protocol):
    @property
    def booking(self) -> BookingRecord: ...
    @property
    def offering_title(self) -> str: ...
    @property
    def coach_user_id(self) -> int: ...


class MaterialRecord(Protocol):
    kind: str
    title: str
    url: str | None
    body: str | None
    message_id: int | None


class Materials(Protocol):
    async def session(self, booking_id: int) -> SessionRecord | None: ...
    async def sessions_of(self, guild_id: int, user_id: int, statuses: tuple[str, ...], *,
                          limit: int = 25) -> Sequence[SessionRecord]: ...
    async def for_booking(self, booking_id: int) -> Sequence[MaterialRecord]: ...
    async def add(self, *, booking_id: int, uploader_id: int, kind: str, title: str,
                  url: str | None, body: str | None, message_id: int | None,
                  at: datetime) -> MaterialRecord: ...


class MaterialsUnitOfWork(Protocol):
    materials: Materials


@dataclass(frozen=True)
class Caller:
    user_id: int
    guild_id: int | None  # where the command runs (None in DMs)
    is_admin: bool  # Manage Server in `guild_id`


@dataclass(frozen=True)
class NewMaterial:
    """What the user gave, checked: exactly one of a file, a link or a text."""

    kind: str
    title: str
    link: str | None = None
    text: str | None = None
    filename: str | None = None


def _is_participant(session: SessionRecord, user_id: int) -> bool:
    return user_id in (session.booking.student_id, session.coach_user_id)


def may_view(session: SessionRecord, caller: Caller) -> bool:
    return _is_participant(session, caller.user_id) or (
        caller.is_admin and caller.guild_id == session.booking.guild_id)


def check_link(link: str) -> str:
    link = link.strip()
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > LINK_MAX \
            or any(c.isspace() for c in link):
        raise InvalidInput("The link must be a web address starting with https:// (or "
                           "http://), without spaces, for example https://example.com/notes.")
    return link


def validate(kind: str, title: str | None, *, filename: str | None, link: str | None,
             text: str | None) -> NewMaterial:
    """Check the command's input; the title defaults to the file name, the link or the text."""
    if kind not in KINDS:
        raise InvalidInput(f"Unknown type {kind!r}: pick one of {', '.join(KINDS)}.")
    given = [v for v in (filename, link, text) if v is not None]
    if len(given) != 1:
        raise InvalidInput("Give exactly one of `file`, `link` or `text`: one material per "
                           "command.")
    if text is not None and not text.strip():
        raise InvalidInput("The text is empty: type the notes you want to share.")
    if text is not None and len(text) > TEXT_MAX:
        raise InvalidInput(f"The text is too long ({len(text)} characters; at most {TEXT_MAX}). "
                           "Share it as a file instead.")
    checked_link = check_link(link) if link is not None else None
    if title is not None and not title.strip():
        title = None
    if title is not None and len(title) > TITLE_MAX:
        raise InvalidInput(f"The title is too long ({len(title)} characters; at most "
                           f"{TITLE_MAX}).")
    if title is None:
        fallback = filename or checked_link or (text or "").strip().splitlines()[0]
        title = fallback if len(fallback) <= 80 else fallback[:79] + "…"
    return NewMaterial(kind=kind, title=title, link=checked_link, text=text,
                       filename=filename)


async def session_for_adding(uow: MaterialsUnitOfWork, booking_id: int,
                             caller: Caller) -> SessionRecord:
    """The session a participant adds a material to (raises when they may not)."""
    session = await uow.materials.session(booking_id)
    if session is None or (session.booking.guild_id != caller.guild_id
                           and not _is_participant(session, caller.user_id)):
        raise NotFound(f"There is no session #{booking_id}. Pick one of yours from the list.")
    if not _is_participant(session, caller.user_id):
        raise NotAllowed(ONLY_PARTICIPANTS_ADD)
    if session.booking.status not in SHAREABLE:
        raise InvalidInput(f"Session #{booking_id} is {session.booking.status.replace('_', ' ')}"
                           ": materials can be shared once it is confirmed.")
    return session


async def record(uow: MaterialsUnitOfWork, session: SessionRecord, caller: Caller,
                 material: NewMaterial, *, url: str | None, message_id: int | None,
                 now: datetime) -> MaterialRecord:
    return await uow.materials.add(
        booking_id=session.booking.id, uploader_id=caller.user_id, kind=material.kind,
        title=material.title, url=url if url is not None else material.link,
        body=material.text, message_id=message_id, at=now)


async def visible(uow: MaterialsUnitOfWork, booking_id: int, caller: Caller,
                  ) -> tuple[SessionRecord, list[MaterialRecord]]:
    """A session's materials for someone allowed to see them."""
    session = await uow.materials.session(booking_id)
    if session is None:
        raise NotFound(f"There is no session #{booking_id}.")
    if not may_view(session, caller):
        raise NotAllowed(NOT_A_PARTICIPANT)
    return session, list(await uow.materials.for_booking(booking_id))


async def my_sessions(uow: MaterialsUnitOfWork, guild_id: int, user_id: int, *,
                      limit: int = 25) -> list[SessionRecord]:
    return list(await uow.materials.sessions_of(guild_id, user_id, SHAREABLE, limit=limit))


def session_label(session: SessionRecord, *, when: str) -> str:
    """An autocomplete label (at most 100 characters): `#12 Mock interview · 24 Nov 10:00`."""
    label = f"#{session.booking.id} {session.offering_title}"
    tail = f" · {when}"
    if len(label) + len(tail) > 100:
        label = label[:99 - len(tail)] + "…"
    return label + tail


async def mine_with_materials(uow: MaterialsUnitOfWork, guild_id: int, user_id: int,
                              ) -> list[tuple[SessionRecord, list[MaterialRecord]]]:
    """The caller's sessions that have materials, latest first, with them."""
    out = []
    for session in await my_sessions(uow, guild_id, user_id):
        items = list(await uow.materials.for_booking(session.booking.id))
        if items:
            out.append((session, items))
    return out
