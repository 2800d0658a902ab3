"""The private text and voice channels of a session: who may see them, and making them once.

Overwrites: ``@everyone`` may not see the channel; the student and the coach may; the bot gives
itself what it needs to post and to manage the channel later (Manage Channels; it edits
overwrites through its server-wide Manage Roles). Discord refuses to create a channel whose
overwrites allow a permission the bot does not have itself, and refuses a ``Manage Permissions``
overwrite to anyone but administrators (API change log, 22 January 2021), so every allowance is
limited to what the bot holds where the channel is created.
"""

from __future__ import annotations

from typing import Final

import discord

from bot.step_results import StepFailed, fail, http_error_text
from scheduling.provisioning import Problem, channel_prefix

Overwrites = dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]

PARTICIPANT_TEXT: Final = ("view_channel", "send_messages", "read_message_history",
                           "attach_files")
BOT_TEXT: Final = ("view_channel", "send_messages", "read_message_history", "embed_links",
                   "attach_files", "manage_channels")
PARTICIPANT_VOICE: Final = ("view_channel", "connect", "speak", "use_voice_activation")
PARTICIPANT_VIDEO: Final = (*PARTICIPANT_VOICE, "stream")
BOT_VOICE: Final = ("view_channel", "manage_channels")


def person(guild: discord.Guild, user_id: int) -> discord.Member | discord.Object:
    """The member, or a stand-in that still makes a member overwrite if they are not cached."""
    return guild.get_member(user_id) or discord.Object(id=user_id, type=discord.Member)


def allowed(names: tuple[str, ...], have: discord.Permissions) -> discord.PermissionOverwrite:
    """An overwrite allowing each of `names` that the bot holds itself."""
    return discord.PermissionOverwrite(
        **{name: True for name in names if have.administrator or getattr(have, name)})


def session_overwrites(guild: discord.Guild, participant_ids: list[int], *,
                       participant: tuple[str, ...], bot: tuple[str, ...],
                       have: discord.Permissions) -> Overwrites:
    overwrites: Overwrites = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        guild.me: allowed(bot, have),
    }
    for user_id in participant_ids:
        overwrites[person(guild, user_id)] = allowed(participant, have)
    return overwrites


def category_for(guild: discord.Guild, category_id: int | None
                 ) -> tuple[discord.CategoryChannel | None, str | None]:
    """The coaching category, and a note for the admin when the configured one is gone."""
    if category_id is None:
        return None, None
    category = guild.get_channel(category_id)
    if isinstance(category, discord.CategoryChannel):
        return category, None
    return None, ("The coaching category set with `/coaching setup` no longer exists, so I made "
                  "the session channel outside any category. Pick a category with "
                  "`/coaching setup`.")


def permissions_where(guild: discord.Guild,
                      category: discord.CategoryChannel | None) -> discord.Permissions:
    return category.permissions_for(guild.me) if category else guild.me.guild_permissions


def find_made(guild: discord.Guild, booking_id: int,
              kind: type[discord.abc.GuildChannel]) -> discord.abc.GuildChannel | None:
    """A channel of this booking made by an attempt that never recorded its result."""
    prefix = channel_prefix(booking_id)
    return next((c for c in guild.channels
                 if isinstance(c, kind) and c.name.startswith(prefix)), None)


def _bot_role_values(guild: discord.Guild) -> dict[str, str]:
    top = guild.me.top_role
    return {"bot_role": top.mention, "bot_role_name": top.name}


def _refused(what: str, guild: discord.Guild, category: discord.CategoryChannel | None,
             error: discord.HTTPException) -> StepFailed:
    place = f" in the category **{category.name}**" if category else ""
    return fail(Problem.CHANNEL_REFUSED, http_error_text(error), what=what, place=place,
                **_bot_role_values(guild))


def check_can_create(what: str, guild: discord.Guild,
                     category: discord.CategoryChannel | None) -> discord.Permissions:
    """The bot's permissions where the channel goes; StepFailed naming the fix if it cannot
    make private channels there."""
    have = permissions_where(guild, category)
    if not (have.administrator or (have.manage_channels and have.manage_roles)):
        place = f" in the category **{category.name}**" if category else ""
        raise fail(Problem.NO_MANAGE_CHANNELS, what=what, place=place, **_bot_role_values(guild))
    return have


async def create_channel(guild: discord.Guild, *, voice: bool, name: str, topic: str,
                         category: discord.CategoryChannel | None, participant_ids: list[int],
                         video: bool, reason: str) -> discord.abc.GuildChannel:
    what = "voice" if voice else "text"
    have = check_can_create(what, guild, category)
    try:
        if voice:
            overwrites = session_overwrites(
                guild, participant_ids, have=have, bot=BOT_VOICE,
                participant=PARTICIPANT_VIDEO if video else PARTICIPANT_VOICE)
            return await guild.create_voice_channel(name, category=category,
                                                    overwrites=overwrites, reason=reason)
        overwrites = session_overwrites(guild, participant_ids, have=have, bot=BOT_TEXT,
                                        participant=PARTICIPANT_TEXT)
        return await guild.create_text_channel(name, category=category, overwrites=overwrites,
                                               topic=topic, reason=reason)
    except discord.HTTPException as error:
        raise _refused(what, guild, category, error) from error


async def admit(channel: discord.abc.GuildChannel, user_id: int, *, voice: bool, video: bool,
                reason: str) -> None:
    """Let one more participant into an existing session channel (a group session's seat)."""
    guild = channel.guild
    have = channel.permissions_for(guild.me)
    names = (PARTICIPANT_VIDEO if video else PARTICIPANT_VOICE) if voice else PARTICIPANT_TEXT
    category = channel.category
    if not (have.administrator or (have.manage_channels and have.manage_roles)):
        place = f" in the category **{category.name}**" if category else ""
        raise fail(Problem.NO_MANAGE_CHANNELS, what="voice" if voice else "text", place=place,
                   **_bot_role_values(guild))
    try:
        await channel.set_permissions(person(guild, user_id), overwrite=allowed(names, have),
                                      reason=reason)
    except discord.HTTPException as error:
        raise _refused("voice" if voice else "text", guild, category, error) from error
