"""No-show buttons the session card gets when the session starts (for the coach only).

`DynamicItem`s carrying the booking id and who did not show, so they work after a restart. The
service checks that the presser is the session's coach and that it is during or after the
session; marking removes the buttons from the card.
"""

from __future__ import annotations

import re
from typing import Any, Final

import discord

from bot.errors import report_error
from bot.session_card import card_view
from scheduling.lifecycle import mark_no_show

NO_SHOW_ID: Final = "session:noshow:{booking_id}:{who}"
LABELS: Final = {"student": "Student didn't show", "coach": "Coach couldn't make it"}
MARKED: Final = {"student": "Marked: the student did not show up.",
                 "coach": "Marked: the coach could not make it."}


class NoShowButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"session:noshow:(?P<id>\d+):(?P<who>student|coach)"):
    def __init__(self, booking_id: int, who: str) -> None:
        super().__init__(discord.ui.Button(
            label=LABELS[who], style=discord.ButtonStyle.danger,
            custom_id=NO_SHOW_ID.format(booking_id=booking_id, who=who)))
        self.booking_id = booking_id
        self.who = who

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str]
                             ) -> NoShowButton:
        return cls(int(match["id"]), match["who"])

    async def callback(self, interaction: discord.Interaction) -> None:
        services = interaction.client.services  # type: ignore[attr-defined]
        try:
            await mark_no_show(services.uow, self.booking_id, who=self.who,
                               actor_id=interaction.user.id, now=services.clock())
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)
            return
        link = join_link_of(interaction.message)
        await interaction.response.edit_message(view=card_view(self.booking_id, link,
                                                               before_start=False))
        await interaction.followup.send(MARKED[self.who], ephemeral=True)


def join_link_of(message: discord.Message | None) -> str | None:
    """The card's Join link (a link button), kept when the card's buttons change."""
    for row in message.components if message is not None else []:
        for child in getattr(row, "children", []):
            url = getattr(child, "url", None)
            if url:
                return str(url)
    return None


def card_view_with_no_show(booking_id: int, link: str | None) -> discord.ui.View:
    """The session card's buttons (Join, Materials) plus the coach's no-show buttons."""
    view = card_view(booking_id, link, before_start=False)  # started: no Cancel any more
    for who in ("student", "coach"):
        view.add_item(NoShowButton(booking_id, who))
    return view


DYNAMIC_ITEMS: Final = (NoShowButton,)
