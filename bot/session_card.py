"""The session card: an embed (who, when, offering, answers, how to join) and its buttons.

Buttons: **Join** (a link button, when the session has a link: the generated room, the coach's
link or the private voice channel) and **Materials** (a `DynamicItem` whose custom_id carries
the booking id, so it works in DMs and after a restart; only the two participants and server
admins may use it), and **Cancel** (`bot.cancellation.CancelButton`, `session:cancel:{id}`: the
`/cancel` confirmation, under the policy) and **Reschedule** (`bot.rescheduling.RescheduleButton`,
`session:reschedule:{id}`: the `/reschedule` flow), both only before
the start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import discord

from bot.cancellation import CancelButton
from bot.errors import report_error
from bot.rescheduling import RescheduleButton
from scheduling import materials
from scheduling.errors import NotFound
from scheduling.money import Money
from scheduling.provisioning import SessionCard, amount_paid, channel_url, materials_text

CARD_COLOUR: Final = discord.Colour.blurple()
MATERIALS_ID: Final = "session:materials:{booking_id}"
NOT_A_PARTICIPANT: Final = materials.NOT_A_PARTICIPANT
HISTORY_LIMIT: Final = 30


async def paid_for_card(uow: Any, booking_id: int) -> Money | None:
    """The receipt line of the booking's card: the amount paid (None: free or unpaid).
    Pass it as `session_card(..., paid=...)`."""
    return amount_paid(await uow.payments.for_booking(booking_id))


def card_embed(card: SessionCard) -> discord.Embed:
    embed = discord.Embed(title=card.title, colour=CARD_COLOUR, timestamp=card.start)
    for item in card.fields:
        embed.add_field(name=item.name, value=item.value, inline=item.inline)
    embed.set_footer(text=card.footer)
    if card.google_calendar_url:  # issue 9: "Add to Google Calendar"
        embed.description = f"[Add to Google Calendar]({card.google_calendar_url})"
    return embed


def join_link(guild_id: int, join_url: str | None, voice_channel_id: int | None) -> str | None:
    """Where the Join button goes: the meeting link, else the private voice channel."""
    if join_url:
        return join_url
    if voice_channel_id is not None:
        return channel_url(guild_id, voice_channel_id)
    return None


class MaterialsButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                      template=r"session:materials:(?P<id>\d+)"):
    """Lists what the participants shared for the session, ephemerally."""

    def __init__(self, booking_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Materials", style=discord.ButtonStyle.secondary,
            custom_id=MATERIALS_ID.format(booking_id=booking_id)))
        self.booking_id = booking_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str],
                             ) -> MaterialsButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            text = await materials_for(interaction, self.booking_id)
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)
            return
        await interaction.response.send_message(text, ephemeral=True)


def _is_admin_here(interaction: discord.Interaction, guild_id: int) -> bool:
    user = interaction.user
    return (interaction.guild_id == guild_id and isinstance(user, discord.Member)
            and user.guild_permissions.manage_guild)


async def materials_for(interaction: discord.Interaction, booking_id: int) -> str:
    services = interaction.client.services  # type: ignore[attr-defined]
    user = interaction.user
    caller = materials.Caller(
        user_id=user.id, guild_id=interaction.guild_id,
        is_admin=isinstance(user, discord.Member) and user.guild_permissions.manage_guild)
    async with services.uow() as uow:  # read only
        try:
            session, items = await materials.visible(uow, booking_id, caller)
        except NotFound:
            raise NotFound("That session no longer exists.") from None
    return materials_text(items, guild_id=session.booking.guild_id,
                          text_channel_id=session.booking.text_channel_id)


DYNAMIC_ITEMS: Final = (MaterialsButton,)


def card_view(booking_id: int, link: str | None, *, before_start: bool = True
              ) -> discord.ui.View:
    """Join and Materials always; before the start also Cancel and Reschedule (their flows
    refuse, with the reason, whoever the policy does not allow)."""
    view = discord.ui.View(timeout=None)
    if link:
        view.add_item(discord.ui.Button(label="Join", style=discord.ButtonStyle.link, url=link))
    view.add_item(MaterialsButton(booking_id))
    if before_start:
        view.add_item(CancelButton(booking_id))  # bot/cancellation.py
        view.add_item(RescheduleButton(booking_id))  # bot/rescheduling.py
    return view


async def find_sent(channel: discord.abc.Messageable, me_id: int, marker: str,
                    matches: Callable[[discord.Message], bool]) -> discord.Message | None:
    """A message this bot already sent with the card `marker` (an attempt that never recorded
    its result): so a retry does not send it twice. None when not found or unreadable."""
    try:
        async for message in channel.history(limit=HISTORY_LIMIT):
            if (message.author.id == me_id and matches(message)
                    and any(e.footer.text == marker for e in message.embeds)):
                return message
    except discord.HTTPException:
        return None
    return None
