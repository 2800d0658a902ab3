"""Fixes for dpytest 0.7.0 under discord.py 2.7, plus a few backend helpers for tests.

`apply()` patches dpytest's module-level helpers once per process (idempotent). It never wraps a
`FakeHttp` method: dpytest's own methods read their caller's locals through `sys._getframe`, so a
wrapper would shift the frame they read. The `FakeHttp` methods listed below are *replaced* by
complete implementations that find channels and guilds by id and read no frames.

Fixed here (all checked by tests/test_harness_dpytest.py):
- roles: `backend.make_role`/`update_role` accept discord.py's `colors=` payload; role dicts carry
  `colors.primary_color`, which is what discord.py reads (colours read 0 otherwise);
- overwrites: `factories.dict_from_overwrite` writes `type` 0 (role) / 1 (member), so channels
  returned by `create_*_channel` keep their overwrites;
- channels: `FakeHttp.create_channel` keeps `parent_id`, `topic`, `nsfw` for every type and voice
  channels get `bitrate`/`user_limit` (discord.py raised KeyError 'bitrate'); `edit_channel` did not
  exist (`channel.edit(...)` raised NotImplementedError); `edit_channel_permissions` passed the
  string values discord.py sends to `Permissions()` (TypeError); deleting a category deleted its
  text channels, Discord keeps them and clears their `parent_id`;
- messages: dicts lack `components` (so `Message.components` raised AttributeError) and `flags`;
  `FakeHttp.send_message` dropped content and embeds when files were attached (it read
  `params.payload`, which discord.py leaves empty for multipart), dropped components, wrote
  attachments as `./dpytest_N.dat` in the working directory and could not simulate closed DMs;
  `FakeHttp.edit_message` did not update the gateway cache (views were not refreshed), crashed
  with files, and let the bot edit other users' messages;
- members: `factories.dict_from_member` put a `MemberFlags` object where discord.py expects an int
  (after `add_roles`, `member.flags.value` was an object);
- reactions: gateway reaction events lacked `type` (KeyError);
- configure: `backend.configure` replaces `client._connection`, dropping the command tree, the
  view store (persistent views, `DynamicItem`s registered before it) and the client's
  `allowed_mentions`; they are carried over.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import discord
import discord.http as dhttp
from discord.ext.test import backend, callbacks, factories
from discord.ext.test.state import FakeState

from tests.harness import limits, messages, payloads
from tests.harness.errors import http_error, missing_permissions

JsonDict = dict[str, Any]

_applied = False
_closed_dm_users: set[int] = set()
_sent_payloads: dict[int, JsonDict] = {}

DEFAULT_ROLE_PERMISSIONS = 104324161  # dpytest's default for roles made directly in tests
# What Coachbot's invite asks for (README): roles, channels, messages with embeds and files.
BOT_PERMISSIONS = discord.Permissions(
    manage_roles=True, manage_channels=True, view_channel=True, send_messages=True,
    embed_links=True, attach_files=True, read_message_history=True,
)


# ---------------------------------------------------------------- public helpers for tests


def close_dms(user: discord.abc.User) -> None:
    """From now on DMs to `user` fail like Discord: Forbidden 50007."""
    _closed_dm_users.add(user.id)


def open_dms(user: discord.abc.User) -> None:
    _closed_dm_users.discard(user.id)


def sent_payload(message: discord.Message | int) -> JsonDict:
    """The raw JSON the bot sent for a message created through `FakeHttp.send_message`."""
    message_id = message if isinstance(message, int) else message.id
    return _sent_payloads[message_id]


def grant_permissions(member: discord.Member, permissions: discord.Permissions,
                      name: str = "Granted") -> discord.Role:
    """Give `member` a new role with `permissions` (as a server admin would), return the role."""
    role = backend.make_role(name, member.guild, permissions=permissions.value)
    roles = [r for r in member.roles if not r.is_default()] + [role]
    backend.update_member(member, roles=roles)
    return role


def grant_bot_permissions(guild: discord.Guild,
                          permissions: discord.Permissions = BOT_PERMISSIONS) -> discord.Role:
    """The bot's own role, as created when the server admin invited it."""
    return grant_permissions(guild.me, permissions, name="Coachbot")


def reset() -> None:
    """Forget per-test state (closed DMs, sent payloads) and delete stored attachment files."""
    _closed_dm_users.clear()
    _sent_payloads.clear()
    messages.clear_cdn()


# ---------------------------------------------------------------- factories


def _colors(primary: int, secondary: int | None = None, tertiary: int | None = None) -> JsonDict:
    return {"primary_color": primary, "secondary_color": secondary, "tertiary_color": tertiary}


def _make_role_dict(
    name: str,
    id_num: int = -1,
    colour: int = 0,
    color: int | None = None,
    hoist: bool = False,
    position: int = -1,
    permissions: int | str = DEFAULT_ROLE_PERMISSIONS,
    managed: bool = False,
    mentionable: bool = False,
    colors: Mapping[str, int | None] | None = None,
) -> JsonDict:
    if id_num < 0:
        id_num = factories.make_id()
    primary = int(color if color is not None else colour)
    colours = _colors(primary)
    if colors:
        colours.update(colors)
        primary = int(colours.get("primary_color") or 0)
    return {
        "id": id_num,
        "name": name,
        "color": primary,
        "colors": colours,
        "hoist": hoist,
        "position": position,
        "permissions": int(permissions),
        "permissions_new": int(permissions),
        "managed": managed,
        "mentionable": mentionable,
        "flags": 0,
    }


def _dict_from_role(role: discord.Role) -> JsonDict:
    secondary, tertiary = role.secondary_colour, role.tertiary_colour
    return {
        "id": role.id,
        "name": role.name,
        "color": role.colour.value,
        "colors": _colors(
            role.colour.value,
            secondary.value if secondary else None,
            tertiary.value if tertiary else None,
        ),
        "hoist": role.hoist,
        "position": role.position,
        "permissions": role.permissions.value,
        "permissions_new": role.permissions.value,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "unicode_emoji": role.unicode_emoji,
        "flags": 0,
    }


def _make_role(
    name: str = "new role",
    guild: discord.Guild | None = None,
    id_num: int = -1,
    colour: int = 0,
    color: int | None = None,
    permissions: int | str = DEFAULT_ROLE_PERMISSIONS,
    hoist: bool = False,
    mentionable: bool = False,
    colors: Mapping[str, int | None] | None = None,
    **_unsupported: Any,  # icon, unicode_emoji: not modelled
) -> discord.Role:
    if guild is None:
        raise TypeError("make_role() needs a guild")
    data = _make_role_dict(
        name, id_num=id_num, colour=colour, color=color, permissions=permissions,
        hoist=hoist, mentionable=mentionable, colors=colors,
    )
    data["position"] = 1
    backend.get_state().parse_guild_role_create({"guild_id": guild.id, "role": data})
    role = guild.get_role(data["id"])
    assert role is not None
    return role


def _update_role(
    role: discord.Role,
    colour: int | None = None,
    color: int | None = None,
    permissions: int | str | None = None,
    hoist: bool | None = None,
    mentionable: bool | None = None,
    name: str | None = None,
    colors: Mapping[str, int | None] | None = None,
    **_unsupported: Any,
) -> discord.Role:
    data = _dict_from_role(role)
    primary = color if color is not None else colour
    if primary is not None:
        data["colors"]["primary_color"] = int(primary)
    if colors:
        data["colors"].update(colors)
    data["color"] = data["colors"]["primary_color"] or 0
    if permissions is not None:
        data["permissions"] = data["permissions_new"] = int(permissions)
    for key, value in (("hoist", hoist), ("mentionable", mentionable), ("name", name)):
        if value is not None:
            data[key] = value
    backend.get_state().parse_guild_role_update({"guild_id": role.guild.id, "role": data})
    return role


def _dict_from_overwrite(
    target: discord.Role | discord.abc.User | discord.Object, overwrite: discord.PermissionOverwrite
) -> JsonDict:
    allow, deny = overwrite.pair()
    return {
        "id": target.id,
        "type": 0 if isinstance(target, discord.Role) else 1,
        "allow": str(allow.value),
        "deny": str(deny.value),
    }


def _dict_from_channel(channel: discord.abc.GuildChannel) -> JsonDict:
    data: JsonDict = {
        "id": channel.id,
        "type": channel.type.value,
        "guild_id": channel.guild.id,
        "name": channel.name,
        "position": channel.position,
        "parent_id": channel.category_id,
        "permission_overwrites": [
            _dict_from_overwrite(k, v) for k, v in channel.overwrites.items()
        ],
        "nsfw": getattr(channel, "nsfw", False),
        "flags": 0,
    }
    if isinstance(channel, discord.TextChannel):
        data.update(topic=channel.topic, rate_limit_per_user=channel.slowmode_delay)
    if isinstance(channel, discord.VoiceChannel):
        data.update(bitrate=channel.bitrate, user_limit=channel.user_limit, rtc_region=None)
    return data


def _message_extras(make: Callable[..., JsonDict]) -> Callable[..., JsonDict]:
    def make_message_dict(*args: Any, components: list[JsonDict] | None = None,
                          flags: int = 0, **kwargs: Any) -> JsonDict:
        data = make(*args, **kwargs)
        data["components"] = components or []
        data["flags"] = flags
        return data

    return make_message_dict


def _dict_from_message(message: discord.Message) -> JsonDict:
    data = _original["dict_from_message"](message)
    data.update(
        channel_id=message.channel.id,
        components=[c.to_dict() for c in getattr(message, "components", [])],
        flags=message.flags.value,
    )
    if message.guild is not None:
        data["guild_id"] = message.guild.id
    return data


def _dict_from_member(member: discord.Member) -> JsonDict:
    data = _original["dict_from_member"](member)
    flags = data.get("flags", 0)
    data["flags"] = flags.value if isinstance(flags, discord.MemberFlags) else int(flags or 0)
    data["joined_at"] = member.joined_at.isoformat() if member.joined_at else None
    return data


# ---------------------------------------------------------------- FakeHttp replacements


def _guild_channel(http: backend.FakeHttp, channel_id: int) -> discord.abc.GuildChannel:
    channel = http.state.get_channel(int(channel_id))
    if not isinstance(channel, discord.abc.GuildChannel):
        raise http_error(404, 10003, "Unknown Channel")
    return channel


def _require(channel: discord.abc.GuildChannel, **perms: bool) -> None:
    me = channel.guild.me
    have = channel.permissions_for(me)
    if not have.administrator and not have.is_superset(discord.Permissions(**perms)):
        raise missing_permissions()


async def _create_channel(self: backend.FakeHttp, guild_id: int, channel_type: int, *,
                          reason: str | None = None, **options: Any) -> JsonDict:
    state = self.state
    guild = state._get_guild(int(guild_id))
    if guild is None:
        raise http_error(404, 10004, "Unknown Guild")
    supported = {t.value for t in (discord.ChannelType.text, discord.ChannelType.voice,
                                   discord.ChannelType.category)}
    if int(channel_type) not in supported:
        raise NotImplementedError(f"dpytest harness: channel type {channel_type} not modelled")
    me = guild.me
    if not (me.guild_permissions.manage_channels or me.guild_permissions.administrator):
        raise missing_permissions()
    data: JsonDict = {
        "id": factories.make_id(),
        "type": int(channel_type),
        "guild_id": guild.id,
        "name": options["name"],
        "position": options.get("position") or len(guild.channels) + 1,
        "parent_id": options.get("parent_id"),
        "permission_overwrites": options.get("permission_overwrites") or [],
        "topic": options.get("topic"),
        "nsfw": options.get("nsfw", False),
        "rate_limit_per_user": options.get("rate_limit_per_user", 0),
        "flags": 0,
    }
    if int(channel_type) == discord.ChannelType.voice.value:
        data.update(bitrate=options.get("bitrate") or 64000,
                    user_limit=options.get("user_limit") or 0,
                    rtc_region=options.get("rtc_region"))
    state.parse_channel_create(data)
    await callbacks.dispatch_event("create_channel", guild.get_channel(data["id"]))
    return data


async def _edit_channel(self: backend.FakeHttp, channel_id: int, *, reason: str | None = None,
                        **options: Any) -> JsonDict:
    channel = _guild_channel(self, channel_id)
    _require(channel, manage_channels=True)
    if "permission_overwrites" in options:
        _require(channel, manage_roles=True)
    data = _dict_from_channel(channel)
    data.update({k: v for k, v in options.items() if k != "position"})
    self.state.parse_channel_update(data)
    return data


async def _delete_channel(self: backend.FakeHttp, channel_id: int, *,
                          reason: str | None = None) -> None:
    channel = _guild_channel(self, channel_id)
    _require(channel, manage_channels=True)
    if isinstance(channel, discord.CategoryChannel):
        for child in channel.channels:  # Discord keeps them, uncategorised
            data = _dict_from_channel(child)
            data["parent_id"] = None
            self.state.parse_channel_update(data)
    self.state.parse_channel_delete(
        {"id": channel.id, "guild_id": channel.guild.id, "type": channel.type.value}
    )


async def _edit_channel_permissions(self: backend.FakeHttp, channel_id: int, target_id: int,
                                    allow_value: int | str, deny_value: int | str,
                                    perm_type: int | str, *, reason: str | None = None) -> None:
    channel = _guild_channel(self, channel_id)
    _require(channel, manage_roles=True)
    data = _dict_from_channel(channel)
    kind = {"role": 0, "member": 1}.get(str(perm_type), perm_type)
    data["permission_overwrites"] = [
        o for o in data["permission_overwrites"] if int(o["id"]) != int(target_id)
    ] + [{"id": int(target_id), "type": int(kind), "allow": str(allow_value),
          "deny": str(deny_value)}]
    self.state.parse_channel_update(data)


async def _delete_channel_permissions(self: backend.FakeHttp, channel_id: int, target_id: int, *,
                                      reason: str | None = None) -> None:
    channel = _guild_channel(self, channel_id)
    _require(channel, manage_roles=True)
    data = _dict_from_channel(channel)
    data["permission_overwrites"] = [
        o for o in data["permission_overwrites"] if int(o["id"]) != int(target_id)
    ]
    self.state.parse_channel_update(data)


async def _send_message(self: backend.FakeHttp, channel_id: int, *,
                        params: dhttp.MultipartParameters) -> JsonDict:
    state = self.state
    channel = state.get_channel(int(channel_id))
    if channel is None:
        raise http_error(404, 10003, "Unknown Channel")
    if isinstance(channel, discord.DMChannel):
        recipient = channel.recipient.id if channel.recipient else None
        if recipient in _closed_dm_users:
            raise http_error(403, 50007, "Cannot send messages to this user")
        perms = channel.permissions_for(state.user)  # type: ignore[arg-type]
    else:
        perms = channel.permissions_for(channel.guild.me)  # type: ignore[union-attr,arg-type]
    if not (perms.send_messages or perms.administrator):
        raise missing_permissions()
    payload = payloads.request_body(params.payload, params.multipart)
    limits.check_message(payload, files=len(params.files or []))

    content = payload.get("content") or ""
    guild = getattr(channel, "guild", None)
    data = factories.make_message_dict(
        channel, state.user,
        content=content,
        tts=bool(payload.get("tts")),
        embeds=[discord.Embed.from_dict(e) for e in payload.get("embeds", [])],
        mentions=backend.find_user_mentions(content, guild),
        mention_roles=backend.find_role_mentions(content, guild),
        mention_channels=backend.find_channel_mentions(content, guild),
        components=payload.get("components", []),
        flags=int(payload.get("flags", 0)),
        **({"nonce": payload["nonce"]} if payload.get("nonce") is not None else {}),
    )
    data["attachments"] = messages.uploaded(messages.read_files(params.files), payload)
    state.parse_message_create(data)
    backend._cur_config.messages.setdefault(channel.id, []).append(data)  # type: ignore[union-attr]
    _sent_payloads[data["id"]] = payload
    message = state._get_message(data["id"])
    await callbacks.dispatch_event("send_message", message)
    return data


async def _edit_message(self: backend.FakeHttp, channel_id: int, message_id: int, *,
                        params: dhttp.MultipartParameters) -> JsonDict:
    stored = backend._cur_config.messages.get(int(channel_id), [])  # type: ignore[union-attr]
    index = next((i for i, m in enumerate(stored) if int(m["id"]) == int(message_id)), None)
    if index is None:
        raise http_error(404, 10008, "Unknown Message")
    if int(stored[index]["author"]["id"]) != self.state.user.id:
        raise http_error(403, 50005, "Cannot edit a message authored by another user")
    body = payloads.request_body(params.payload, params.multipart)
    limits.check_message(body, edit=True)
    stored[index] = data = messages.edited(stored[index], body, messages.read_files(params.files))
    self.state.parse_message_update(copy.deepcopy(data))
    return data


# ---------------------------------------------------------------- reactions


def _reaction_with_type(parse: Callable[[FakeState, JsonDict], None]) -> Callable[..., None]:
    def parse_with_type(self: FakeState, data: JsonDict) -> None:
        data.setdefault("type", 0)  # 0 = normal reaction, 1 = burst
        data.setdefault("burst", False)
        parse(self, data)

    return parse_with_type


def _keep_registrations(configure: Callable[..., None]) -> Callable[..., None]:
    def configure_keeping(client: discord.Client | None, *, use_dummy: bool = False) -> None:
        old = getattr(client, "_connection", None)
        configure(client, use_dummy=use_dummy)
        new = backend.get_state()
        if old is not None and old is not new:
            new._view_store = old._view_store
            new._view_store._state = new
            new.application_id = new.application_id or old.application_id
            # Client options kept on the state (allowed_mentions guards every send).
            new.allowed_mentions = old.allowed_mentions
        tree = getattr(client, "tree", None)
        if tree is not None:
            new._command_tree = tree
            tree._state = new
            tree._http = new.http
    return configure_keeping


_original: dict[str, Callable[..., Any]] = {}


def apply() -> None:
    """Patch dpytest for discord.py 2.7. Safe to call any number of times."""
    global _applied
    if _applied:
        return
    _original["dict_from_message"] = factories.dict_from_message
    _original["dict_from_member"] = factories.dict_from_member

    factories.make_role_dict = _make_role_dict
    factories.dict_from_role = _dict_from_role
    factories.dict_from_overwrite = _dict_from_overwrite
    factories.dict_from_channel = _dict_from_channel
    factories.make_message_dict = _message_extras(factories.make_message_dict)
    factories.dict_from_message = _dict_from_message
    factories.dict_from_member = _dict_from_member
    backend.make_role = _make_role
    backend.update_role = _update_role
    backend.configure = _keep_registrations(backend.configure)

    backend.FakeHttp.create_channel = _create_channel  # type: ignore[method-assign]
    backend.FakeHttp.edit_channel = _edit_channel  # type: ignore[method-assign]
    backend.FakeHttp.delete_channel = _delete_channel  # type: ignore[method-assign]
    backend.FakeHttp.edit_channel_permissions = _edit_channel_permissions  # type: ignore[method-assign]
    backend.FakeHttp.delete_channel_permissions = _delete_channel_permissions  # type: ignore[method-assign]
    backend.FakeHttp.send_message = _send_message  # type: ignore[method-assign]
    backend.FakeHttp.edit_message = _edit_message  # type: ignore[method-assign]

    FakeState.parse_message_reaction_add = _reaction_with_type(  # type: ignore[method-assign]
        FakeState.parse_message_reaction_add
    )
    FakeState.parse_message_reaction_remove = _reaction_with_type(  # type: ignore[method-assign]
        FakeState.parse_message_reaction_remove
    )
    _applied = True
