"""Delivering lifecycle messages (reminders, rating requests, transcripts) to one member: by DM,
else (closed DMs) in the session's private channel with a mention; at most once across crashes.

An attempt that was interrupted (the process stopped between sending and recording it) first
looks for its own message, recognised by a marker (embed footer or file name), where it would
have sent it. If that lookup fails, the message is not sent again: a rare lost message is
better than a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import discord

from bot.dm import Attachment, only_pings
from bot.step_results import http_error_text
from scheduling.lifecycle import Outcome

if TYPE_CHECKING:
    from discord.ext import commands

log = logging.getLogger(__name__)

HISTORY_LIMIT: Final = 30
DMS_CLOSED_NOTE: Final = "DMs closed: posted in the session channel instead"
CLOSED_PREFIX: Final = "{mention} I could not DM you (your direct messages are closed), so here "
NOT_VERIFIED: Final = ("interrupted attempt, and I could not check whether it was delivered: "
                       "not sent again")
Matcher = Callable[[discord.Message], bool]


@dataclass(frozen=True)
class Letter:
    """One message to deliver, and how to recognise it once sent."""

    content: str
    is_mine: Matcher
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    attachment: Attachment | None = None
    fallback_lead: str = "it is:"


def footer_is(marker: str) -> Matcher:
    return lambda m: any(e.footer.text == marker for e in m.embeds)


def has_file(filename: str) -> Matcher:
    return lambda m: any(a.filename == filename for a in m.attachments)


class LookupFailed(Exception):
    """The channel's history could not be read."""


async def find_own(channel: discord.abc.Messageable, me_id: int,
                   is_mine: Matcher) -> discord.Message | None:
    """A message this bot sent in `channel` that `is_mine` recognises (the latest few)."""
    try:
        async for message in channel.history(limit=HISTORY_LIMIT):
            if message.author.id == me_id and is_mine(message):
                return message
    except discord.HTTPException as error:
        raise LookupFailed(http_error_text(error)) from error
    return None


async def _user(bot: commands.Bot, user_id: int) -> discord.User | None:
    user = bot.get_user(user_id)
    if user is not None:
        return user
    try:
        return await bot.fetch_user(user_id)
    except discord.NotFound:
        return None


async def _send(target: discord.abc.Messageable, content: str, letter: Letter,
                mentions: discord.AllowedMentions) -> discord.Message:
    kwargs: dict[str, object] = {"allowed_mentions": mentions}
    if letter.embed is not None:
        kwargs["embed"] = letter.embed
    if letter.view is not None:
        kwargs["view"] = letter.view
    if letter.attachment is not None:
        kwargs["file"] = letter.attachment.file()
    return await target.send(content, **kwargs)  # type: ignore[arg-type]


async def deliver(bot: commands.Bot, user_id: int, letter: Letter, *, interrupted: bool,
                  fallback: discord.TextChannel | None) -> Outcome:
    """DM `letter` to the user; closed DMs: post it in `fallback` mentioning them."""
    me = bot.user
    assert me is not None
    user = await _user(bot, user_id)
    if user is not None:
        try:
            if interrupted:
                dm = user.dm_channel or await user.create_dm()
                if await find_own(dm, me.id, letter.is_mine) is not None:
                    return Outcome.done("already delivered by an interrupted attempt")
            await _send(user, letter.content, letter, discord.AllowedMentions.none())
            return Outcome.done()
        except LookupFailed:
            return Outcome.failed(NOT_VERIFIED)
        except discord.Forbidden:
            pass  # DMs closed (50007): the session channel instead
        except discord.HTTPException as error:
            return Outcome.retry(f"DM failed: {http_error_text(error)}")
    if fallback is None:
        why = "DMs closed" if user is not None else "unknown user"
        return Outcome.failed(f"{why} and no session channel to post in")
    mention = f"<@{user_id}>"
    try:
        if interrupted and await find_own(fallback, me.id, lambda m: (
                m.content.startswith(mention) and letter.is_mine(m))) is not None:
            return Outcome.done(DMS_CLOSED_NOTE)
        content = (CLOSED_PREFIX.format(mention=mention) + letter.fallback_lead + "\n"
                   + letter.content)
        await _send(fallback, content[:2000], letter, only_pings(user_id))
    except LookupFailed:
        return Outcome.failed(NOT_VERIFIED)
    except discord.HTTPException as error:
        return Outcome.retry(f"DMs closed, and posting in <#{fallback.id}> failed: "
                             f"{http_error_text(error)}")
    return Outcome.done(DMS_CLOSED_NOTE)
