"""One place that turns errors raised by commands, buttons and modals into ephemeral replies.

Domain errors carry their own user-facing message. Anything unexpected is logged with a short
error id that the user also sees, so an admin can find the log line.
"""

from __future__ import annotations

import logging
import uuid

import discord
from discord import app_commands

from scheduling.errors import DomainError

log = logging.getLogger(__name__)

_PERMISSION_NAMES = {
    "manage_guild": "Manage Server",
    "manage_roles": "Manage Roles",
    "manage_channels": "Manage Channels",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
}


def _names(perms: list[str]) -> str:
    return ", ".join(_PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in perms)


def user_message_for(error: BaseException) -> str | None:
    """The message for an expected error, or None when the error is a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, DomainError):
        return error.user_message
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside a server. Run it in a channel of your server."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_names(error.missing_permissions)} permission to use this."
    if isinstance(error, app_commands.BotMissingPermissions):
        return (f"I am missing the {_names(error.missing_permissions)} permission here. "
                "Ask a server admin to grant it to my role.")
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.TransformerError):
        cause = error.__cause__
        if isinstance(cause, DomainError):
            return cause.user_message
        return f"I could not understand {error.value!r}. Check the option and try again."
    if isinstance(error, app_commands.CheckFailure):
        text = str(error)
        if text and not text.startswith("The check functions"):
            return text
        return "You cannot use this command here."
    return None


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Reply ephemerally, as a follow-up when the first response was already used."""
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True)
    else:
        await interaction.response.send_message(content, ephemeral=True)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong; log the unexpected with an id they can quote."""
    message = user_message_for(error)
    if message is None:
        error_id = uuid.uuid4().hex[:8]
        original = getattr(error, "original", error)
        command = interaction.command.qualified_name if interaction.command else "component"
        log.error(
            "error_id=%s unexpected error in %s (guild=%s user=%s)",
            error_id, command, interaction.guild_id, interaction.user.id,
            exc_info=(type(original), original, original.__traceback__),
        )
        message = (f"Something went wrong on our side (error id `{error_id}`). "
                   "Please try again; if it keeps happening, give this id to a server admin.")
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)


class CoachTree(app_commands.CommandTree):
    """The command tree with the project's single error handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)
