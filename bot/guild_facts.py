"""Plain facts about a Discord server, read from the gateway cache for the pure services:
role hierarchy and permissions for setup, everything `/coaching doctor` checks."""

from __future__ import annotations

import discord

from scheduling.doctor import ChannelState, DoctorFacts, RoleState
from scheduling.server_setup import RoleFacts, ServerConfig


def bot_outranks(guild: discord.Guild, role: discord.Role) -> bool:
    """Whether the bot may assign `role`: strictly below its highest role in Discord's order
    (position, ties broken by id), or the bot owns the server."""
    me = guild.me
    return guild.owner_id == me.id or role < me.top_role


def role_facts(guild: discord.Guild, role: discord.Role) -> RoleFacts:
    return RoleFacts(id=role.id, name=role.name, is_default=role.is_default(),
                     managed=role.managed, below_bot=bot_outranks(guild, role),
                     bot_role_name=guild.me.top_role.name)


def role_state(guild: discord.Guild, role_id: int | None) -> RoleState | None:
    role = guild.get_role(role_id) if role_id is not None else None
    if role is None:
        return None
    return RoleState(id=role.id, name=role.name, position=role.position,
                     below_bot=bot_outranks(guild, role), managed=role.managed)


def channel_state(guild: discord.Guild, channel_id: int | None) -> ChannelState | None:
    channel = guild.get_channel(channel_id) if channel_id is not None else None
    if channel is None:
        return None
    perms = channel.permissions_for(guild.me)
    return ChannelState(
        id=channel.id, name=channel.name, view=perms.view_channel,
        send_messages=perms.send_messages, embed_links=perms.embed_links,
        manage_channels=perms.manage_channels, manage_permissions=perms.manage_roles,
        is_text=isinstance(channel, discord.TextChannel),
        is_category=isinstance(channel, discord.CategoryChannel),
    )


def doctor_facts(guild: discord.Guild, config: ServerConfig, *, stripe_configured: bool,
                 paid_published_offerings: int) -> DoctorFacts:
    me = guild.me
    perms = me.guild_permissions
    return DoctorFacts(
        bot_role_name=me.top_role.name,
        bot_role_position=me.top_role.position,
        manage_roles=perms.manage_roles,
        manage_channels=perms.manage_channels,
        access_role_id=config.access_role_id,
        access_role=role_state(guild, config.access_role_id),
        category_id=config.category_id,
        category=channel_state(guild, config.category_id),
        log_channel_id=config.log_channel_id,
        log_channel=channel_state(guild, config.log_channel_id),
        required_role_id=config.required_role_id,
        required_role=role_state(guild, config.required_role_id),
        stripe_configured=stripe_configured,
        paid_published_offerings=paid_published_offerings,
    )
