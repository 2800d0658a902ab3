"""The `/book` summary's menus: add-ons (paid offerings) and "repeat weekly"."""

from __future__ import annotations

from typing import Any, Final

import discord

from cogs._book_views import FlowView
from scheduling.book_choices import REPEAT_CHOICES, repeat_label
from scheduling.book_flow import OfferingInfo

MAX_OPTIONS: Final = 25  # a select holds 25 options


class AddonsSelect(discord.ui.Select[FlowView]):
    """The summary's add-on menu (any number, none included); picks stay while the flow
    lives and are passed to checkout."""

    def __init__(self, info: OfferingInfo, picked: tuple[int, ...], *,
                 on_pick: Any) -> None:
        options = [discord.SelectOption(
            label=a.name[:100], value=str(a.addon_id), default=a.addon_id in picked,
            description=a.extra_text(info.currency))
            for a in info.addons[:MAX_OPTIONS]]
        super().__init__(custom_id="book:addons", options=options, min_values=0,
                         max_values=len(options), placeholder="Add-ons (optional)", row=0)
        self.on_pick = on_pick

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_pick(interaction, list(self.values))


class RepeatSelect(discord.ui.Select[FlowView]):
    """Just this once, or the same time every week for up to 12 weeks."""

    def __init__(self, weeks: int, *, on_pick: Any) -> None:
        options = [discord.SelectOption(label=repeat_label(n), value=str(n), default=n == weeks)
                   for n in REPEAT_CHOICES]
        super().__init__(custom_id="book:repeat", options=options, min_values=1, max_values=1,
                         placeholder="Repeat weekly?", row=1)
        self.on_pick = on_pick

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_pick(interaction, list(self.values))
