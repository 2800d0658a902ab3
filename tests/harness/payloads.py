"""Discord-shaped JSON for INTERACTION_CREATE events, built from discord.py objects.

Pure functions: they read discord.py objects and return dicts; nothing here touches the bot.
Shapes follow Discord's API v10 documentation as far as discord.py 2.7 reads them.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import discord
from discord.ext.test import factories

JsonDict = dict[str, Any]

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # Discord's default upload limit (10 MiB)
_tokens = itertools.count(1)


def snowflake() -> int:
    return factories.make_id()


def new_token() -> str:
    return f"harness-token-{next(_tokens)}"


def request_body(payload: JsonDict | None, multipart: list[JsonDict] | None) -> JsonDict:
    """The JSON body of a request discord.py sent; with files it travels as `payload_json`."""
    if payload is not None:
        return payload
    for part in multipart or []:
        if part.get("name") == "payload_json":
            return json.loads(part["value"])
    return {}


def user(u: discord.abc.User) -> JsonDict:
    inner = u._user if isinstance(u, discord.Member) else u  # type: ignore[attr-defined]
    return {
        "id": str(inner.id),
        "username": inner.name,
        "discriminator": inner.discriminator,
        "global_name": inner.global_name,
        "avatar": inner.avatar.key if inner.avatar else None,
        "bot": inner.bot,
        "public_flags": inner.public_flags.value,
    }


def _flags_value(member: discord.Member) -> int:
    flags = member._flags  # dpytest may have stored a MemberFlags object
    return flags.value if isinstance(flags, discord.MemberFlags) else int(flags or 0)


def member(m: discord.Member, permissions: discord.Permissions | None = None,
           *, with_user: bool = True) -> JsonDict:
    data: JsonDict = {
        "roles": [str(r.id) for r in m.roles if not r.is_default()],
        "joined_at": m.joined_at.isoformat() if m.joined_at else None,
        "deaf": False,
        "mute": False,
        "flags": _flags_value(m),
        "nick": m.nick,
        "avatar": None,
        "premium_since": None,
        "pending": False,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        data["permissions"] = str(permissions.value)
    if with_user:
        data["user"] = user(m)
    return data


def role(r: discord.Role) -> JsonDict:
    secondary, tertiary = r.secondary_colour, r.tertiary_colour
    return {
        "id": str(r.id),
        "name": r.name,
        "color": r.colour.value,
        "colors": {
            "primary_color": r.colour.value,
            "secondary_color": secondary.value if secondary else None,
            "tertiary_color": tertiary.value if tertiary else None,
        },
        "hoist": r.hoist,
        "icon": None,
        "unicode_emoji": r.unicode_emoji,
        "position": r.position,
        "permissions": str(r.permissions.value),
        "managed": r.managed,
        "mentionable": r.mentionable,
        "flags": 0,
    }


def channel(ch: discord.abc.Messageable | discord.abc.GuildChannel,
            permissions: discord.Permissions | None = None) -> JsonDict:
    """The partial channel of an interaction or of `resolved.channels`."""
    if isinstance(ch, discord.DMChannel):
        recipients = [user(ch.recipient)] if ch.recipient else []
        return {"id": str(ch.id), "type": 1, "recipients": recipients, "flags": 0,
                "last_message_id": None}
    assert isinstance(ch, discord.abc.GuildChannel)
    data: JsonDict = {
        "id": str(ch.id),
        "type": ch.type.value,
        "guild_id": str(ch.guild.id),
        "name": ch.name,
        "position": ch.position,
        "parent_id": str(ch.category_id) if ch.category_id else None,
        "nsfw": getattr(ch, "nsfw", False),
        "topic": getattr(ch, "topic", None),
        "rate_limit_per_user": getattr(ch, "slowmode_delay", 0),
        "flags": 0,
    }
    if permissions is not None:
        data["permissions"] = str(permissions.value)
    return data


def attachment(spec: dict[str, Any], url: str) -> JsonDict:
    """`resolved.attachments` entry for an attachment option (`spec`: filename, size, ...)."""
    return {
        "id": str(spec.get("id") or snowflake()),
        "filename": spec["filename"],
        "size": int(spec.get("size", 0)),
        "url": url,
        "proxy_url": url,
        "content_type": spec.get("content_type"),
        "ephemeral": True,
    }


def message(msg: discord.Message) -> JsonDict:
    """Rebuild a message payload from a discord.py Message (for messages not stored as JSON)."""
    data: JsonDict = {
        "id": msg.id,
        "channel_id": msg.channel.id,
        "author": user(msg.author),
        "content": msg.content,
        "timestamp": msg.created_at.isoformat(),
        "edited_timestamp": msg.edited_at.isoformat() if msg.edited_at else None,
        "tts": msg.tts,
        "mention_everyone": msg.mention_everyone,
        "mentions": [],
        "mention_roles": [],
        "attachments": [a.to_dict() for a in msg.attachments],
        "embeds": [e.to_dict() for e in msg.embeds],
        "components": [c.to_dict() for c in getattr(msg, "components", [])],
        "pinned": msg.pinned,
        "type": msg.type.value,
        "flags": msg.flags.value,
    }
    if msg.guild is not None:
        data["guild_id"] = msg.guild.id
    return data


def interaction(
    *,
    type: int,
    app_id: int,
    invoker: discord.abc.User,
    where: discord.abc.Messageable | discord.abc.GuildChannel,
    data: JsonDict | None = None,
    msg: JsonDict | None = None,
    locale: str = "en-US",
) -> JsonDict:
    """An INTERACTION_CREATE payload; `invoker` is a Member in guilds, a User in DMs."""
    payload: JsonDict = {
        "id": str(snowflake()),
        "application_id": str(app_id),
        "type": type,
        "token": new_token(),
        "version": 1,
        "locale": locale,
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "channel_id": str(where.id),  # type: ignore[union-attr]
    }
    if data is not None:
        payload["data"] = data
    if msg is not None:
        payload["message"] = msg
    if isinstance(where, discord.abc.GuildChannel):
        guild = where.guild
        assert isinstance(invoker, discord.Member), "guild interactions need a Member"
        me = guild.me
        payload.update(
            guild_id=str(guild.id),
            guild_locale="en-US",
            guild={"id": str(guild.id), "locale": "en-US", "features": []},
            member=member(invoker, where.permissions_for(invoker)),
            channel=channel(where),
            app_permissions=str(where.permissions_for(me).value),
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
        )
    else:
        assert isinstance(where, discord.DMChannel)
        payload.update(
            user=user(invoker),
            channel=channel(where),
            app_permissions=str(discord.Permissions._dm_permissions().value),
            authorizing_integration_owners={"0": "0"},
            context=1,  # BOT_DM
        )
    return payload
