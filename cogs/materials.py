"""`/materials add|list`: share notes, outlines, homework, manuscripts, recordings, ... for a
session, and list them.

`/materials add session [type] [title]` with exactly one of `file` (posted in the session's
private channel; the database keeps the reference), `link` or `text`. Either participant can
add; the participants and server admins can list. The `session` option autocompletes the
caller's sessions on the server. The rules live in `scheduling/materials.py`.
"""

from __future__ import annotations

from typing import Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from scheduling import materials as service
from scheduling.errors import NotConfigured
from scheduling.provisioning import materials_text

CHANNEL_GONE: Final = ("Session #{id} has no private channel (any more), so there is nowhere to "
                       "keep the file. Share it as a `link` instead (for example a cloud "
                       "drive link).")
CANNOT_POST: Final = ("I cannot post the file in <#{channel}>: I need **View Channel**, **Send "
                      "Messages** and **Attach Files** there. Ask an admin to fix my "
                      "permissions, or share a `link` instead.")
LIST_LIMIT: Final = 1900


def caller_of(interaction: discord.Interaction) -> service.Caller:
    user = interaction.user
    is_admin = isinstance(user, discord.Member) and user.guild_permissions.manage_guild
    return service.Caller(user_id=user.id, guild_id=interaction.guild_id, is_admin=is_admin)


class Materials(commands.Cog):
    materials = app_commands.Group(name="materials", guild_only=True,
                                   description="Notes, homework and files shared for a session")

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def session_choices(self, interaction: discord.Interaction, current: str,
                              ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        async with self.bot.services.uow() as uow:
            sessions = await service.my_sessions(uow, interaction.guild_id, interaction.user.id)
        wanted = current.strip().lstrip("#").casefold()
        choices = []
        for session in sessions:
            when = session.booking.start_at.strftime("%d %b %Y %H:%M UTC")
            label = service.session_label(session, when=when)
            if wanted in label.casefold():
                choices.append(app_commands.Choice(name=label, value=session.booking.id))
        return choices[:25]

    @materials.command(name="add", description="Share a file, a link or notes for a session")
    @app_commands.describe(
        session="The session (type to search your sessions)",
        type="What it is", title="A short title (default: the file name, link or text)",
        file="A file to share (kept in the session's private channel)",
        link="A link to share", text="Notes to share (up to 4,000 characters)")
    @app_commands.choices(type=[app_commands.Choice(name=k, value=k) for k in service.KINDS])
    @app_commands.autocomplete(session=session_choices)
    async def add(self, interaction: discord.Interaction, session: int,
                  type: str = "notes", title: str | None = None,
                  file: discord.Attachment | None = None, link: str | None = None,
                  text: str | None = None) -> None:
        material = service.validate(type, title, filename=file.filename if file else None,
                                    link=link, text=text)
        caller = caller_of(interaction)
        async with self.bot.services.uow() as uow:  # read only
            found = await service.session_for_adding(uow, session, caller)
        url = message_id = None
        if file is not None:
            channel = self._session_channel(found.booking.id, found.booking.text_channel_id)
            await interaction.response.defer(ephemeral=True, thinking=True)
            posted = await channel.send(
                f"📎 {material.kind.capitalize()} shared by <@{caller.user_id}>: "
                f"**{material.title}**", file=await file.to_file())
            message_id = posted.id
            url = posted.attachments[0].url if posted.attachments else None
        async with self.bot.services.uow() as uow:
            await service.record(uow, found, caller, material, url=url, message_id=message_id,
                                 now=self.bot.services.clock())
            await uow.commit()
        reply = (f"Added **{material.title}** ({material.kind}) to session #{found.booking.id}"
                 f" ({found.offering_title}). Both of you can see it with `/materials list`.")
        if interaction.response.is_done():
            await interaction.followup.send(reply, ephemeral=True)
        else:
            await interaction.response.send_message(reply, ephemeral=True)

    def _session_channel(self, booking_id: int, channel_id: int | None) -> discord.TextChannel:
        channel = self.bot.get_channel(channel_id) if channel_id is not None else None
        if not isinstance(channel, discord.TextChannel):
            raise NotConfigured(CHANNEL_GONE.format(id=booking_id))
        perms = channel.permissions_for(channel.guild.me)
        if not (perms.view_channel and perms.send_messages and perms.attach_files):
            raise NotConfigured(CANNOT_POST.format(channel=channel.id))
        return channel

    @materials.command(name="list", description="The materials of a session (or of all yours)")
    @app_commands.describe(session="The session (all your sessions when left out)")
    @app_commands.autocomplete(session=session_choices)
    async def list_(self, interaction: discord.Interaction, session: int | None = None) -> None:
        caller = caller_of(interaction)
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:
            if session is not None:
                found, items = await service.visible(uow, session, caller)
                text = materials_text(items, guild_id=found.booking.guild_id,
                                      text_channel_id=found.booking.text_channel_id)
                text = text.replace("this session", f"session #{session}", 1)
            else:
                text = await self._all_of_mine(uow, caller, interaction.guild_id)
        await interaction.response.send_message(text, ephemeral=True)

    async def _all_of_mine(self, uow: service.MaterialsUnitOfWork, caller: service.Caller,
                           guild_id: int) -> str:
        parts: list[str] = []
        for found, items in await service.mine_with_materials(uow, guild_id, caller.user_id):
            text = materials_text(items, guild_id=found.booking.guild_id,
                                  text_channel_id=found.booking.text_channel_id, limit=600)
            parts.append(text.replace("this session",
                                      f"session #{found.booking.id} ({found.offering_title})", 1))
        if not parts:
            return ("No materials shared in your sessions yet. Share one with "
                    "`/materials add`.")
        text = "\n\n".join(parts)
        return text if len(text) <= LIST_LIMIT else text[:LIST_LIMIT - 1] + "…"

async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Materials(bot))
