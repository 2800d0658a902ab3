"""The Discord side of cancelling (`scheduling/cancellation.py` decides, this acts).

    await start_cancel(interaction, booking_id)  # /cancel, the card's button, /sessions

shows what the policy gives right now with **Cancel session** / **Keep it**; Cancel session
asks for a reason (modal), then cancels in one transaction, sends the refund to Stripe, drops
the booking's reminders and tasks (its channel is closed and the role released), DMs the other
party and posts to the log channel.

`CancelButton` (custom_id `session:cancel:{booking_id}`) is a `DynamicItem`: it works on session
cards and reminder DMs after a restart; who may press it is re-checked by the service.

Imports of `bot.lifecycle` stay inside functions: `bot.session_card` imports this module.
"""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.dm import notify
from bot.errors import report_error
from bot.ui import OwnedView, ReportingModal
from bot.waitlist import booking_freed
from scheduling import cancellation as service
from scheduling import ics
from scheduling.cancellation import Cancelled, CancelQuote
from scheduling.money import format_money
from scheduling.provisioning import timestamp as _ts

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

CANCEL_ID: Final = "session:cancel:{booking_id}"
CONFIRM_ID: Final = "cancel:confirm"
KEEP_ID: Final = "cancel:keep"
REASON_ID: Final = "cancel:reason"
VIEW_TIMEOUT: Final = 10 * 60
COLOUR: Final = discord.Colour.red()
KEPT: Final = "Nothing was cancelled: your session stays booked."




def admin_of(interaction: discord.Interaction) -> int | None:
    """The server the user administers here (Manage Server), else None."""
    user = interaction.user
    if isinstance(user, discord.Member) and user.guild_permissions.manage_guild:
        return interaction.guild_id
    return None


def quote_embed(quote: CancelQuote) -> discord.Embed:
    embed = discord.Embed(title=f"Cancel {quote.title}?"[:256], colour=COLOUR,
                          timestamp=quote.start_at)
    embed.add_field(name="When", value=f"{_ts(quote.start_at)} ({_ts(quote.start_at, 'R')})",
                    inline=False)
    embed.add_field(name="If you cancel now", value=quote.refund_text, inline=False)
    if not quote.by_student:
        back = ("gets their package credit back" if quote.credit
                else "is refunded in full")
        embed.add_field(name="As the coach", value=f"The student {back} and is told, "
                        "with a hint to book another time.", inline=False)
    embed.add_field(name="Cancellation policy",
                    value="\n".join(f"- {line}" for line in quote.policy_lines)[:1024],
                    inline=False)
    embed.set_footer(text=f"booking #{quote.booking_id}")
    return embed


async def start_cancel(interaction: discord.Interaction, booking_id: int) -> None:
    """Reply (ephemerally) with what cancelling gives now and the confirmation buttons."""
    bot: CoachBot = interaction.client  # type: ignore[assignment]
    async with bot.services.uow() as uow:  # read only
        quote = await service.quote_cancellation(uow, booking_id, interaction.user.id,
                                                 now=bot.services.clock(),
                                                 admin_of=admin_of(interaction))
    from bot.series_cancel import CancelRestButton, later_occurrences  # it builds on this

    view = ConfirmCancelView(bot, interaction.user.id, booking_id)
    rest = await later_occurrences(bot, booking_id)
    if rest > 1:  # an occurrence of a weekly series with later weeks
        view.add_item(CancelRestButton(bot, booking_id, rest))
    await interaction.response.send_message(embed=quote_embed(quote), view=view, ephemeral=True)


class ConfirmCancelView(OwnedView):
    def __init__(self, bot: CoachBot, owner_id: int, booking_id: int) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.booking_id = booking_id

    @discord.ui.button(label="Cancel session", style=discord.ButtonStyle.danger,
                       custom_id=CONFIRM_ID)
    async def confirm(self, interaction: discord.Interaction,
                      button: discord.ui.Button[ConfirmCancelView]) -> None:
        await interaction.response.send_modal(ReasonModal(self.bot, self.booking_id))

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary, custom_id=KEEP_ID)
    async def keep(self, interaction: discord.Interaction,
                   button: discord.ui.Button[ConfirmCancelView]) -> None:
        self.stop()
        await interaction.response.edit_message(content=KEPT, embed=None, view=None)


class ReasonModal(ReportingModal, title="Cancel the session"):
    reason: discord.ui.TextInput[ReasonModal] = discord.ui.TextInput(
        label="Why are you cancelling?", style=discord.TextStyle.paragraph,
        custom_id=REASON_ID, max_length=service.REASON_LIMIT, required=True)

    def __init__(self, bot: CoachBot, booking_id: int) -> None:
        super().__init__()
        self.bot = bot
        self.booking_id = booking_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        reason = service.clean_reason(self.reason.value)
        # Stripe and the channel close are I/O beyond the database: answer within 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await service.cancel_booking(
            self.bot.services.uow, self.booking_id, interaction.user.id,
            now=self.bot.services.clock(), reason=reason, admin_of=admin_of(interaction))
        await carry_out(self.bot, done, interaction.user)
        await interaction.followup.send(cancelled_reply(done), ephemeral=True)


def cancelled_reply(done: Cancelled) -> str:
    quote = done.quote
    who = "The coach" if quote.by_student else "The student"
    return (f"**{quote.title}** on {_ts(quote.start_at)} is cancelled. "
            f"{service.refund_line(done)} {who} has been told.")


def other_party_text(done: Cancelled) -> str:
    quote = done.quote
    when = _ts(quote.start_at)
    if quote.by_student:
        return (f"<@{done.student_id}> cancelled **{quote.title}** on {when}. The time is free "
                f"again.\nReason: {done.reason}")
    refund = ""
    if quote.credit:
        refund = f" {quote.credit_text}" if quote.credit_back else ""
    elif quote.paid_minor is not None and done.refund_id is not None:
        refund = (f" You get a full refund of {format_money(quote.refund_minor, quote.currency)}"
                  "; it is on its way.")
    by = "Your coach" if quote.role == service.COACH else "A server admin"
    return (f"{by} cancelled your session **{quote.title}** on {when}.{refund}\n"
            f"Reason: {done.reason}\nWant another time? Run `/book` in the server to pick a new "
            "slot.")


async def carry_out(bot: CoachBot, done: Cancelled, actor: discord.abc.User) -> None:
    """After the commit: refund, jobs, DM, log channel. Failures are logged, never raised
    (the cancellation stands; maintenance retries an unsent refund)."""
    from bot.lifecycle import cancel_booking_jobs  # bot.lifecycle imports the session card
    from scheduling.payments import SendRefund

    if done.refund_id is not None:
        if bot.payments.configured:
            await bot.payments.carry_out([SendRefund(done.refund_id)])
        else:
            log.warning("refund %s of cancelled booking %s waits: Stripe is not configured",
                        done.refund_id, done.quote.booking_id)
    try:
        await cancel_booking_jobs(bot, done.quote.booking_id)
    except Exception:
        log.exception("could not drop the jobs of cancelled booking %s", done.quote.booking_id)
    student = bot.get_user(done.student_id)
    name = student.display_name if student else "Student"
    await notify(bot, done.other_party_id, other_party_text(done),
                 file=cancelled_calendar(done, name), about="a cancellation")
    await notify(bot, done.actor_id, CALENDAR_NOTE, file=cancelled_calendar(done, name),
                 about="a cancellation")
    await post_log(bot, done, actor)
    await booking_freed(bot, done.quote.booking_id)  # the waitlist's turn


CALENDAR_NOTE = "Cancelled. Open the attached file to remove the session from your calendar."


def cancelled_calendar(done: Cancelled, student_name: str) -> discord.File:
    """`METHOD:CANCEL` with the booking's UID, so calendars drop the event they imported."""
    quote = done.quote
    event = ics.SessionEvent(
        booking_id=quote.booking_id, title=quote.title, start=quote.start_at, end=quote.end_at,
        coach=ics.Participant(done.coach_user_id, done.coach_name),
        student=ics.Participant(done.student_id, student_name), session_type="",
        sequence=quote.sequence)
    data = ics.cancellation_ics(event, now=done.at)
    return discord.File(io.BytesIO(data), filename=ics.filename_for(quote.booking_id))




def log_embed(done: Cancelled, actor: discord.abc.User) -> discord.Embed:
    quote = done.quote
    embed = discord.Embed(title="Session cancelled", colour=COLOUR, timestamp=done.at)
    embed.add_field(name="Who", value=f"{actor.mention} ({quote.role})", inline=False)
    embed.add_field(name="Session", value=f"#{quote.booking_id} {quote.title}, "
                    f"{_ts(quote.start_at)}; student <@{done.student_id}>, coach "
                    f"<@{done.coach_user_id}>"[:1024], inline=False)
    embed.add_field(name="Why", value=done.reason[:1024], inline=False)
    embed.add_field(name="Refund", value=service.refund_line(done), inline=False)
    embed.set_footer(text=f"action: {service.AUDIT_ACTION}")
    return embed


async def post_log(bot: CoachBot, done: Cancelled, actor: discord.abc.User) -> bool:
    from bot.audit_log import log_channel_problem

    guild = bot.get_guild(done.quote.guild_id)
    if guild is None or done.log_channel_id is None:
        return False
    problem = log_channel_problem(guild, done.log_channel_id)
    channel = guild.get_channel(done.log_channel_id)
    if problem is not None or not isinstance(channel, discord.TextChannel):
        log.warning("cancellation of booking %s not posted to the log channel: %s",
                    done.quote.booking_id, problem)
        return False
    try:
        await channel.send(embed=log_embed(done, actor),
                           allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("cancellation of booking %s not posted to the log channel: %s",
                    done.quote.booking_id, error)
        return False
    return True


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"session:cancel:(?P<id>\d+)"):
    """The session card's Cancel: the same confirmation as `/cancel`."""

    def __init__(self, booking_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Cancel", style=discord.ButtonStyle.danger,
            custom_id=CANCEL_ID.format(booking_id=booking_id)))
        self.booking_id = booking_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str],
                             ) -> CancelButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await start_cancel(interaction, self.booking_id)
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)


DYNAMIC_ITEMS: Final = (CancelButton,)
