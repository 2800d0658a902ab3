"""The offering card as a Discord embed, with its uploaded thumbnail sent as a file.

Uploaded thumbnails live in the database (Discord attachment links expire); a message that
shows the card carries the picture as an attachment named after its hash and the embed points
at it with ``attachment://``. When the message being edited already carries that file, it is
kept instead of being uploaded again.
"""

from __future__ import annotations

import io

import discord

from scheduling.offerings import OfferingCard

NO_DESCRIPTION = "*No description yet: add one in step 2 (Checkout).*"


def card_embed(card: OfferingCard, *, preview: bool = False) -> discord.Embed:
    description = card.description or (NO_DESCRIPTION if preview else "")
    embed = discord.Embed(title=card.title, description=description[:4096] or None,
                          colour=card.colour if card.colour is not None
                          else discord.Colour.blurple())
    embed.set_author(name=f"with {card.coach_name}"[:256])
    if card.thumbnail is not None:
        embed.set_thumbnail(url=card.thumbnail.embed_url)
    for field in card.fields:
        embed.add_field(name=field.name, value=field.value[:1024] or "-", inline=field.inline)
    embed.set_footer(text=card.footer[:2048])
    return embed


def kept_attachment(card: OfferingCard, message: discord.Message | None
                    ) -> discord.Attachment | None:
    """The thumbnail already attached to `message`, if it is the card's current picture."""
    if card.thumbnail is None or card.thumbnail.filename is None or message is None:
        return None
    return next((a for a in message.attachments if a.filename == card.thumbnail.filename), None)


def needs_upload(card: OfferingCard, message: discord.Message | None) -> bool:
    return (card.thumbnail is not None and card.thumbnail.filename is not None
            and kept_attachment(card, message) is None)


def card_attachments(card: OfferingCard, message: discord.Message | None,
                     data: bytes | None) -> list[discord.Attachment | discord.File]:
    """What the message's attachments must be so that the card's thumbnail shows."""
    kept = kept_attachment(card, message)
    if kept is not None:
        return [kept]
    if card.thumbnail is not None and card.thumbnail.filename is not None and data is not None:
        return [discord.File(io.BytesIO(data), filename=card.thumbnail.filename)]
    return []
