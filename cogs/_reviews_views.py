"""The pages of `/coach reviews` (Previous / Next, for the person who ran the command)."""

from __future__ import annotations

from typing import Any, Final

import discord

from bot.ui import OwnedView
from scheduling.reviews import Reviews, stars_text

COLOUR: Final = discord.Colour.gold()


def reviews_embed(reviews: Reviews, page: int) -> discord.Embed:
    summary = (f"Average **{reviews.average}** ★ from {reviews.rating_count} rating"
               f"{'' if reviews.rating_count == 1 else 's'} · "
               f"{reviews.sessions_completed} sessions completed")
    embed = discord.Embed(title=f"Reviews of {reviews.coach_name}", colour=COLOUR,
                          description=summary)
    if not reviews.reviews:
        embed.add_field(name="No written feedback yet",
                        value="Students can leave some when they rate a session.")
    for review in reviews.page(page):
        who = f"<@{review.student_id}>" if review.student_id is not None else "A student"
        embed.add_field(name=f"{stars_text(review.stars)} · <t:{int(review.at.timestamp())}:D>",
                        value=f"{review.text}\n— {who}", inline=False)
    embed.set_footer(text=f"Page {min(page, reviews.pages - 1) + 1} of {reviews.pages}")
    return embed


class ReviewsView(OwnedView):
    def __init__(self, owner_id: int, reviews: Reviews) -> None:
        super().__init__(owner_id)
        self.reviews = reviews
        self.index = 0
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.index <= 0
        self.next.disabled = self.index >= self.reviews.pages - 1

    async def _show(self, interaction: discord.Interaction, step: int) -> None:
        self.index = min(max(self.index + step, 0), self.reviews.pages - 1)
        self._sync()
        await interaction.response.edit_message(embed=reviews_embed(self.reviews, self.index),
                                                view=self)

    @discord.ui.button(label="Previous", custom_id="reviews:previous")
    async def previous(self, interaction: discord.Interaction,
                       button: discord.ui.Button[Any]) -> None:
        await self._show(interaction, -1)

    @discord.ui.button(label="Next", custom_id="reviews:next")
    async def next(self, interaction: discord.Interaction,
                   button: discord.ui.Button[Any]) -> None:
        await self._show(interaction, 1)
