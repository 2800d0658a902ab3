"""The `/sessions` message: one page of the caller's upcoming or past sessions, one embed per
session, with Upcoming/Past and Previous/Next, and per session a Join link (while it can be
joined) and a Materials button. Only the caller can use them.

Materials shows what the session card's button shows (`bot.session_card.materials_for`, with
its participant check), but is a plain button of this view rather than the card's
`MaterialsButton`: discord.py forgets a `DynamicItem` class for every message when a view
holding one alongside ordinary buttons stops (or is re-rendered without it), which would break
the Materials buttons of every session card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import discord

from bot.cancellation import start_cancel
from bot.session_card import materials_for
from bot.ui import OwnedView
from scheduling import sessions as service
from scheduling.book_flow import timestamp
from scheduling.sessions import SessionItem, SessionsPage

if TYPE_CHECKING:
    from bot.client import CoachBot

VIEW_TIMEOUT: Final = 15 * 60
STUDENT_COLOUR: Final = discord.Colour.blurple()
COACH_COLOUR: Final = discord.Colour.teal()
NO_UPCOMING: Final = ("You have no upcoming sessions on this server. Book one with `/book`, "
                      "or browse the coaches with `/coaches`.")
NO_PAST: Final = "You have no past sessions on this server yet."


def session_embed(number: int, item: SessionItem) -> discord.Embed:
    role = "You coach this session" if item.as_coach else "You are the student"
    embed = discord.Embed(title=f"{number}. {item.title}"[:256],
                          colour=COACH_COLOUR if item.as_coach else STUDENT_COLOUR)
    embed.add_field(name="When", value=f"{timestamp(item.start, 'F')} "
                                       f"({timestamp(item.start, 'R')})", inline=False)
    embed.add_field(name="With", value=item.with_text[:1024])
    embed.add_field(name="Status", value=item.status)
    if item.payment:
        embed.add_field(name="Payment", value=item.payment[:1024])
    if item.where:
        embed.add_field(name="Where", value=item.where[:1024], inline=False)
    embed.set_footer(text=f"{role} · booking #{item.booking_id}")
    return embed


class MaterialsListButton(discord.ui.Button["SessionsView"]):
    def __init__(self, booking_id: int, number: int, row: int) -> None:
        super().__init__(custom_id=f"sessions:materials:{booking_id}",
                         label=f"Materials {number}", row=row)
        self.booking_id = booking_id

    async def callback(self, interaction: discord.Interaction) -> None:
        text = await materials_for(interaction, self.booking_id)
        await interaction.response.send_message(text, ephemeral=True)


class CancelListButton(discord.ui.Button["SessionsView"]):
    """The session's Cancel: the `/cancel` confirmation (bot/cancellation.py)."""

    def __init__(self, booking_id: int, number: int, row: int) -> None:
        super().__init__(custom_id=f"sessions:cancel:{booking_id}", label=f"Cancel {number}",
                         style=discord.ButtonStyle.danger, row=row)
        self.booking_id = booking_id

    async def callback(self, interaction: discord.Interaction) -> None:
        await start_cancel(interaction, self.booking_id)


class SessionsView(OwnedView):
    def __init__(self, bot: CoachBot, owner_id: int, guild_id: int) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.guild_id = guild_id
        self.upcoming = True
        self.page = 0

    async def load(self) -> SessionsPage:
        async with self.bot.services.uow() as uow:  # read only
            page = await service.sessions_page(uow, guild_id=self.guild_id,
                                               user_id=self.owner_id, upcoming=self.upcoming,
                                               page=self.page, now=self.bot.services.clock())
        self.page = page.page
        return page

    def screen(self, page: SessionsPage) -> dict[str, Any]:
        self.clear_items()
        nav = (  # custom_id, label, what it shows, disabled, highlighted
            ("sessions:upcoming", "Upcoming", self._show(True, 0), self.upcoming,
             self.upcoming),
            ("sessions:past", "Past", self._show(False, 0), not self.upcoming,
             not self.upcoming),
            ("sessions:previous", "Previous", self._show(self.upcoming, self.page - 1),
             not page.has_previous, False),
            ("sessions:next", "Next", self._show(self.upcoming, self.page + 1),
             not page.has_next, False),
        )
        for custom_id, label, callback, disabled, highlighted in nav:
            button: discord.ui.Button[SessionsView] = discord.ui.Button(
                custom_id=custom_id, label=label, row=0, disabled=disabled,
                style=discord.ButtonStyle.primary if highlighted
                else discord.ButtonStyle.secondary)
            button.callback = callback  # type: ignore[method-assign]
            self.add_item(button)
        first = page.page * service.PAGE_SIZE + 1
        for row, item in enumerate(page.items, start=1):
            number = first + row - 1
            if item.join_link:
                self.add_item(discord.ui.Button(label=f"Join {number}", url=item.join_link,
                                                style=discord.ButtonStyle.link, row=row))
            self.add_item(MaterialsListButton(item.booking_id, number, row))
            if self.upcoming and item.status == service.STATUS_LABELS["confirmed"]:
                self.add_item(CancelListButton(item.booking_id, number, row))
        which = "upcoming" if self.upcoming else "past"
        if not page.items:
            content = NO_UPCOMING if self.upcoming else NO_PAST
        else:
            content = (f"Your {which} sessions: {page.total} · page {page.page + 1} of "
                       f"{page.pages}")
        embeds = [session_embed(first + i, item) for i, item in enumerate(page.items)]
        return {"content": content, "embeds": embeds, "view": self}

    def _show(self, upcoming: bool, page: int) -> Any:
        async def show(interaction: discord.Interaction) -> None:
            self.upcoming, self.page = upcoming, page
            await interaction.response.edit_message(**self.screen(await self.load()))
        return show
