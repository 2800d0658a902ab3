"""Direct messages with the session card, and the fallback when a member's DMs are closed."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import discord

log = logging.getLogger(__name__)


async def notify(client: discord.Client, user_id: int, text: str, *,
                 file: discord.File | None = None, about: str) -> None:
    """A best-effort DM (no pings); a closed DM or a vanished user is logged, never raised."""
    if not user_id:
        return
    try:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        await user.send(text, file=file, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("could not DM user %s about %s: %s", user_id, about, error)


class DMClosed(Exception):
    """Discord refused the DM (403): the user does not accept DMs from this server's members,
    blocked the bot, or shares no server with it any more."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes

    def file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename)


async def send_card_dm(user: discord.abc.User, *, content: str, embed: discord.Embed,
                       view: discord.ui.View, attachment: Attachment) -> discord.Message:
    """DM the card with its attachment; DMClosed when Discord refuses it."""
    try:
        return await user.send(content, embed=embed, view=view, file=attachment.file(),
                               allowed_mentions=discord.AllowedMentions.none())
    except discord.Forbidden as error:
        raise DMClosed(str(error)) from error


def only_pings(*user_ids: int) -> discord.AllowedMentions:
    """Mentions that notify exactly these users (never @everyone, roles or anyone else)."""
    return discord.AllowedMentions(everyone=False, roles=False, replied_user=False,
                                   users=[discord.Object(id=u) for u in user_ids])
