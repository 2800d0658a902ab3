"""After a session: its private channel becomes read-only, transcripts go out, the channels are
deleted after the server's retention, and the access role is taken back (when the rules in
`scheduling/lifecycle.py` say so). Every function is safe to repeat."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

import discord

from bot.dm import Attachment
from bot.session_channels import person
from bot.step_results import http_error_text
from scheduling.lifecycle import (
    Outcome,
    SessionInfo,
    TranscriptLine,
    timestamp,
    transcript_filename,
    transcript_text,
)

log = logging.getLogger(__name__)

# What participants lose when the channel becomes read-only (they keep reading it).
READ_ONLY_DENIED: Final = ("send_messages", "attach_files", "add_reactions",
                           "send_messages_in_threads", "create_public_threads",
                           "create_private_threads")
CLOSED_NOTICE: Final = ("This session is over, so this channel is now read-only. It will be "
                        "deleted {when}; you get a transcript by DM before that.")
# Another process may serve that server (shards): wait for it rather than count a failure.
NOT_IN_SERVER: Final = "I am not in the session's server (here)"


def _text_channel(guild: discord.Guild, channel_id: int | None) -> discord.TextChannel | None:
    channel = guild.get_channel(channel_id) if channel_id is not None else None
    return channel if isinstance(channel, discord.TextChannel) else None


def _deniable(channel: discord.abc.GuildChannel) -> tuple[str, ...]:
    """Discord refuses overwrites touching permissions the bot lacks itself."""
    have = channel.permissions_for(channel.guild.me)
    return tuple(name for name in READ_ONLY_DENIED if have.administrator or getattr(have, name))


async def make_read_only(guild: discord.Guild, session: SessionInfo, user_ids: list[int], *,
                         delete_at: datetime) -> Outcome:
    """Deny writing to these participants (they can still read), then say so once."""
    channel = _text_channel(guild, session.text_channel_id)
    if channel is None:
        return Outcome.done("the session channel no longer exists")
    names = _deniable(channel)
    changed = False
    try:
        for user_id in user_ids:
            target = person(guild, user_id)
            overwrite = channel.overwrites_for(target)
            if all(getattr(overwrite, name) is False for name in names):
                continue
            overwrite.update(**dict.fromkeys(names, False))
            await channel.set_permissions(target, overwrite=overwrite,
                                          reason=f"Coachbot booking #{session.booking_id} ended")
            changed = True
    except discord.HTTPException as error:
        return Outcome.retry(f"could not make <#{channel.id}> read-only: "
                             f"{http_error_text(error)}. My role needs Manage Roles.")
    if changed:  # the first time only (a repeated attempt finds it read-only already)
        when = timestamp(delete_at, "R")
        try:
            await channel.send(CLOSED_NOTICE.format(when=when),
                               allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning("booking %s: could not post the closing notice: %s",
                        session.booking_id, error)
    return Outcome.done()


async def remove_role(guild: discord.Guild | None, user_id: int, role_id: int, *,
                      reason: str) -> Outcome:
    if guild is None:
        return Outcome.wait(NOT_IN_SERVER)
    role = guild.get_role(role_id)
    if role is None:
        return Outcome.done("the role no longer exists")
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.NotFound:
            return Outcome.done("the member left the server")
        except discord.HTTPException as error:
            return Outcome.retry(http_error_text(error))
    if member.get_role(role_id) is None:
        return Outcome.done("the member no longer had the role")
    try:
        await member.remove_roles(role, reason=reason)
    except discord.HTTPException as error:
        return Outcome.retry(f"could not remove {role.mention} from {member.mention}: "
                             f"{http_error_text(error)}")
    return Outcome.done()


async def transcript_of(channel: discord.TextChannel, session: SessionInfo, *,
                        generated_at: datetime) -> Attachment:
    """The channel's messages, oldest first, with attachment links, as a text file."""
    lines = []
    async for message in channel.history(limit=None):
        author = message.author.display_name + (" (bot)" if message.author.bot else "")
        lines.append(TranscriptLine(
            at=message.created_at, author=author, content=message.content,
            attachments=tuple(a.url for a in message.attachments),
            embeds=tuple(e.title or e.description or "embed" for e in message.embeds)))
    lines.sort(key=lambda line: line.at)
    data = transcript_text(booking_id=session.booking_id, title=session.title,
                           channel_name=channel.name, lines=lines,
                           generated_at=generated_at)
    return Attachment(transcript_filename(session.booking_id), data)


async def delete_channels(guild: discord.Guild | None, session: SessionInfo) -> Outcome:
    if guild is None:
        return Outcome.wait(NOT_IN_SERVER)
    gone = []
    for channel_id in (session.text_channel_id, session.voice_channel_id):
        channel = guild.get_channel(channel_id) if channel_id is not None else None
        if channel is None:
            continue
        try:
            await channel.delete(reason=f"Coachbot booking #{session.booking_id}: retention "
                                        "over")
        except discord.NotFound:
            pass
        except discord.HTTPException as error:
            return Outcome.retry(f"could not delete <#{channel.id}>: {http_error_text(error)}. "
                                 "My role needs Manage Channels.")
        gone.append(channel_id)
    return Outcome.done(None if gone else "the channels were already gone")
