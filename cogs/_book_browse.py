"""The `/coaches` message: a page of coach cards with Previous/Next and a select that opens a
coach (their card and their published offerings, each with a Book button that starts the
`/book` flow for it).

The list is computed once per `/coaches` (a snapshot: paging does not re-query); opening a
coach reads fresh data. Only the person who ran `/coaches` can use the buttons.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.ui import OwnedView
from cogs._book_flow import BookFlow
from cogs._book_views import clip
from cogs._coach_views import CARD_COLOUR, coach_card_embed
from cogs._offering_card import card_attachments, card_embed
from scheduling import browse
from scheduling.book_flow import timestamp
from scheduling.browse import CoachDetails, CoachListing
from scheduling.offerings import thumbnail_bytes

if TYPE_CHECKING:
    from bot.client import CoachBot

PAGE_SIZE: Final = 4  # coach cards per page (a message's embeds share 6,000 characters)
BIO_PREVIEW: Final = 300
DESCRIPTION_PREVIEW: Final = 400
EMBED_BUDGET: Final = 5800
VIEW_TIMEOUT: Final = 15 * 60


def _avatar(guild: discord.Guild | None, user_id: int) -> str | None:
    member = guild.get_member(user_id) if guild is not None else None
    return member.display_avatar.url if member is not None else None


def listing_embed(listing: CoachListing, *, fallback_avatar: str | None) -> discord.Embed:
    """A compact coach card for the list."""
    card = listing.card
    embed = discord.Embed(title=clip(card.display_name, 256), colour=CARD_COLOUR,
                          description=clip(card.bio, BIO_PREVIEW) or None)
    avatar = card.avatar_url or fallback_avatar
    if avatar:
        embed.set_thumbnail(url=avatar)
    if card.specialties:
        embed.add_field(name="Specialties", value=clip(", ".join(card.specialties), 1024),
                        inline=False)
    embed.add_field(name="Rating", value=card.rating)
    offerings = f"{listing.offering_count} offering{'' if listing.offering_count == 1 else 's'}"
    embed.add_field(name="Price", value=f"{listing.price} ({offerings})")
    embed.add_field(name="Next free time",
                    value=timestamp(listing.next_open, "R") if listing.next_open
                    else "Nothing free soon")
    embed.add_field(name="Sessions completed", value=str(card.sessions_completed))
    return embed


class CoachesView(OwnedView):
    def __init__(self, bot: CoachBot, owner_id: int, listings: list[CoachListing], *,
                 title: str) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.listings = listings
        self.title = title
        self.page = 0

    # ------------------------------------------------------------ list

    @property
    def pages(self) -> int:
        return browse.page_count(len(self.listings), PAGE_SIZE)

    def list_screen(self, guild: discord.Guild | None) -> dict[str, Any]:
        self.page = browse.clamp_page(self.page, len(self.listings), PAGE_SIZE)
        shown = self.listings[self.page * PAGE_SIZE:(self.page + 1) * PAGE_SIZE]
        self.clear_items()
        select: discord.ui.Select[CoachesView] = discord.ui.Select(
            custom_id="coaches:open", placeholder="Open a coach to see what they offer",
            options=[discord.SelectOption(
                label=clip(x.card.display_name, 100), value=str(x.coach_id),
                description=clip(f"{x.card.rating} · {x.price}", 100)) for x in shown])
        select.callback = self._open  # type: ignore[method-assign]
        self.add_item(select)
        for custom_id, label, step, disabled in (
                ("coaches:previous", "Previous", -1, self.page == 0),
                ("coaches:next", "Next", 1, self.page >= self.pages - 1)):
            button: discord.ui.Button[CoachesView] = discord.ui.Button(
                custom_id=custom_id, label=label, disabled=disabled, row=1)
            button.callback = self._turner(step)  # type: ignore[method-assign]
            self.add_item(button)
        content = f"{self.title} · page {self.page + 1} of {self.pages}"
        embeds = [listing_embed(x, fallback_avatar=_avatar(guild, x.user_id)) for x in shown]
        return {"content": content, "embeds": embeds, "view": self}

    def _turner(self, step: int) -> Any:
        async def turn(interaction: discord.Interaction) -> None:
            self.page += step
            await interaction.response.edit_message(attachments=[],
                                                    **self.list_screen(interaction.guild))
        return turn

    async def _back(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(attachments=[],
                                                **self.list_screen(interaction.guild))

    # ------------------------------------------------------------ one coach

    async def _open(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None and interaction.data is not None
        values = interaction.data.get("values") or ["0"]
        coach_id = int(values[0]) if str(values[0]).isdecimal() else 0
        now = self.bot.services.clock()
        async with self.bot.services.uow() as uow:  # read only
            details = await browse.coach_details(uow, guild_id=interaction.guild_id,
                                                 coach_id=coach_id, now=now)
            embeds, files, more = await self._detail_embeds(uow, interaction.guild, details)
        self.clear_items()
        for card in details.offerings[:len(embeds) - 1]:
            button: discord.ui.Button[CoachesView] = discord.ui.Button(
                custom_id=f"coaches:book:{card.offering_id}", label=clip(f"Book: {card.title}",
                                                                         80),
                style=discord.ButtonStyle.success)
            button.callback = self._booker(card.offering_id)  # type: ignore[method-assign]
            self.add_item(button)
        back: discord.ui.Button[CoachesView] = discord.ui.Button(
            custom_id="coaches:list", label="Back to the list", row=4)
        back.callback = self._back  # type: ignore[method-assign]
        self.add_item(back)
        content = f"**{details.card.display_name}**: press **Book** on an offering to pick a time."
        if more:
            content += (f"\n{more} more offering{'' if more == 1 else 's'} not shown here: "
                        f"see them all with `/book coach:`.")
        await interaction.response.edit_message(content=content, embeds=embeds,
                                                attachments=files, view=self)

    async def _detail_embeds(self, uow: Any, guild: discord.Guild | None,
                             details: CoachDetails
                             ) -> tuple[list[discord.Embed], list[discord.File], int]:
        embeds = [coach_card_embed(details.card,
                                   fallback_avatar=_avatar(guild, details.user_id))]
        files: list[discord.File] = []
        used = len(embeds[0])
        for card in details.offerings:
            short = dataclasses.replace(card, description=clip(card.description,
                                                               DESCRIPTION_PREVIEW))
            embed = card_embed(short)
            if used + len(embed) > EMBED_BUDGET:
                break
            used += len(embed)
            embeds.append(embed)
            if card.thumbnail is not None and card.thumbnail.filename is not None:
                data = await thumbnail_bytes(uow, card.offering_id)
                files += [a for a in card_attachments(card, None, data)
                          if isinstance(a, discord.File)]
        return embeds, files, details.more + len(details.offerings) - (len(embeds) - 1)

    def _booker(self, offering_id: int) -> Any:
        async def book(interaction: discord.Interaction) -> None:
            await BookFlow.start(self.bot, interaction, offering=str(offering_id))
        return book
