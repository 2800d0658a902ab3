""""Cancel the rest of the series": a button beside **Cancel session** on the cancel quote of
a weekly series' occurrence. It asks for the reason once, then cancels this occurrence and
every later one, each under the policy on its own (own refund or credit, own DMs, calendar
cancellations and log entry), and says what happened to each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import discord

from bot.cancellation import ReasonModal, admin_of, carry_out
from scheduling import cancellation as service
from scheduling.series import cancel_rest, rest_of_series

if TYPE_CHECKING:
    from bot.client import CoachBot

REST_ID: Final = "cancel:rest"


async def later_occurrences(bot: CoachBot, booking_id: int) -> int:
    """How many occurrences "cancel the rest" would cancel (1: not a series, or the last)."""
    async with bot.services.uow() as uow:  # read only
        return len(await rest_of_series(uow, booking_id, now=bot.services.clock()))


class CancelRestButton(discord.ui.Button[Any]):
    def __init__(self, bot: CoachBot, booking_id: int, count: int) -> None:
        super().__init__(label=f"Cancel this and the {count - 1} later week"
                               f"{'s' if count > 2 else ''}",
                         style=discord.ButtonStyle.danger, custom_id=REST_ID)
        self.bot = bot
        self.booking_id = booking_id

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(RestReasonModal(self.bot, self.booking_id))


class RestReasonModal(ReasonModal, title="Cancel the rest of the series"):
    """The cancel reason, asked once for every occurrence cancelled."""

    async def on_submit(self, interaction: discord.Interaction) -> None:
        reason = service.clean_reason(self.reason.value)
        await interaction.response.defer(ephemeral=True, thinking=True)
        done, skipped = await cancel_rest(
            self.bot.services.uow, self.booking_id, interaction.user.id,
            now=self.bot.services.clock(), reason=reason, admin_of=admin_of(interaction))
        for cancelled in done:
            await carry_out(self.bot, cancelled, interaction.user)
        await interaction.followup.send(rest_reply(done, skipped), ephemeral=True)


def rest_reply(done: list[service.Cancelled], skipped: list[tuple[int, str]]) -> str:
    lines = [f"Cancelled {len(done)} session{'s' if len(done) != 1 else ''} of the series:"]
    lines += [f"- <t:{int(d.quote.start_at.timestamp())}:F>: {service.refund_line(d)}"
              for d in done]
    lines += [f"- Booking #{booking_id} was not cancelled: {why}" for booking_id, why in skipped]
    lines.append("The other party has been told about each one.")
    return "\n".join(lines)
