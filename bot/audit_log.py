"""Posting configuration changes to the server's log channel (who, what, before, after).

The audit row in the database is the record; the post is a courtesy. A missing or unwritable log
channel never breaks the command: it is logged as a warning and `/coaching doctor` reports it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord

from scheduling.policy import Policy
from scheduling.server_setup import FIELD_LABELS, AuditNote

log = logging.getLogger(__name__)

NOTHING = "—"
_EXTRA_LABELS = {"coach_member_id": "Coach (member)", "coach_role_id": "Coach (role)"}
_FIELD_LIMIT = 1024


def role_text(guild: discord.Guild, role_id: int | None) -> str:
    if role_id is None:
        return "not set"
    if role_id == guild.id:
        return "@everyone"
    return f"<@&{role_id}>" if guild.get_role(role_id) else f"<@&{role_id}> (deleted)"


def channel_text(guild: discord.Guild, channel_id: int | None) -> str:
    if channel_id is None:
        return "not set"
    channel = guild.get_channel(channel_id)
    if channel is None:
        return f"<#{channel_id}> (deleted)"
    if isinstance(channel, discord.CategoryChannel):
        return f"{channel.name} (category)"  # categories do not render as mentions
    return channel.mention


def value_text(guild: discord.Guild, key: str, value: Any) -> str:
    """A configuration value as an admin reads it (mentions render, they never ping)."""
    if value is None:
        return "not set"
    if key.endswith("role_id"):
        return role_text(guild, int(value))
    if key in ("category_id", "log_channel_id"):
        return channel_text(guild, int(value))
    if key.endswith("member_id"):
        return f"<@{int(value)}>"
    if key == "default_policy" and isinstance(value, Mapping):
        return "\n".join(Policy.from_dict(value).describe())
    return str(value)


def label(key: str) -> str:
    return FIELD_LABELS.get(key) or _EXTRA_LABELS.get(key) or key.replace("_", " ").capitalize()


def describe_values(guild: discord.Guild, values: Mapping[str, Any] | None) -> str:
    if not values:
        return NOTHING
    lines = []
    for key, value in values.items():
        shown = value_text(guild, key, value)
        separator = "\n" if "\n" in shown else " "
        lines.append(f"**{label(key)}**:{separator}{shown}")
    text = "\n".join(lines)
    return text if len(text) <= _FIELD_LIMIT else text[:_FIELD_LIMIT - 1] + "…"


def audit_embed(guild: discord.Guild, actor: discord.abc.User, note: AuditNote) -> discord.Embed:
    embed = discord.Embed(title="Configuration changed", colour=discord.Colour.orange(),
                          timestamp=note.at)
    embed.add_field(name="Who", value=f"{actor.mention} ({actor})", inline=False)
    embed.add_field(name="What", value=note.summary, inline=False)
    embed.add_field(name="Before", value=describe_values(guild, note.before), inline=True)
    embed.add_field(name="After", value=describe_values(guild, note.after), inline=True)
    embed.set_footer(text=f"action: {note.action}")
    return embed


def log_channel_problem(guild: discord.Guild, channel_id: int) -> str | None:
    """Why the bot cannot post in the log channel, or None when it can."""
    channel = guild.get_channel(channel_id)
    if not isinstance(channel, discord.TextChannel):
        return "it no longer exists"
    perms = channel.permissions_for(guild.me)
    missing = [name for name, ok in (("View Channel", perms.view_channel),
                                     ("Send Messages", perms.send_messages),
                                     ("Embed Links", perms.embed_links)) if not ok]
    return f"I am missing {', '.join(missing)} there" if missing else None


async def post_audit(guild: discord.Guild, actor: discord.abc.User,
                     note: AuditNote | None) -> bool:
    """Post `note` to the log channel when one is configured; True when it was posted."""
    if note is None or note.log_channel_id is None:
        return False
    problem = log_channel_problem(guild, note.log_channel_id)
    if problem is not None:
        log.warning("audit entry %s in guild %s not posted to log channel %s: %s",
                    note.action, guild.id, note.log_channel_id, problem)
        return False
    channel = guild.get_channel(note.log_channel_id)
    assert isinstance(channel, discord.TextChannel)
    try:
        await channel.send(embed=audit_embed(guild, actor, note),
                           allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("audit entry %s in guild %s not posted to log channel %s: %s",
                    note.action, guild.id, note.log_channel_id, error)
        return False
    return True
