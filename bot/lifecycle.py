"""The Discord side of a session's lifecycle (`scheduling/lifecycle.py` decides, this acts):
reminder DMs with Join and Materials buttons, no-show buttons on the session card at the start,
the read-only channel and role removal at the end, the rating DM, transcripts and deletion.

For other features (cancel, reschedule, preferences), after their change is committed:

    await reschedule_booking_jobs(bot, booking_id)  # the booking moved
    await cancel_booking_jobs(bot, booking_id)      # the booking was cancelled
    await bookings_changed(bot, booking_ids)        # their work was re-planned
    await run_due(bot)                              # do what is due now (tests, tools)

A booking confirmed through `scheduling.booking` is planned in its own transaction; its
wake-up is picked up by the runner's sweep within a minute, or at once with
`bookings_changed(bot, [booking_id])`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

import discord

from bot import cleanup
from bot.lifecycle_views import card_view_with_no_show
from bot.rating_views import rating_view
from bot.reminder_dm import Letter, deliver, footer_is, has_file
from bot.session_card import CARD_COLOUR, card_view, join_link
from bot.step_results import http_error_text
from scheduling.jobs import SessionRunner
from scheduling.lifecycle import (
    START,
    DueReport,
    Outcome,
    ReminderDelivery,
    SessionInfo,
    rating_marker,
    rating_request_text,
    reminder_marker,
    reminder_text,
    timestamp,
    transcript_filename,
)
from scheduling.provisioning import SessionLocation, where_text

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

COG_NAME: Final = "Lifecycle"


class DiscordEffects:
    """`scheduling.lifecycle.SessionEffects` on Discord."""

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    def _guild(self, session: SessionInfo) -> discord.Guild | None:
        return self.bot.get_guild(session.guild_id)

    def _channel(self, session: SessionInfo) -> discord.TextChannel | None:
        guild = self._guild(session)
        if guild is None or session.text_channel_id is None:
            return None
        channel = guild.get_channel(session.text_channel_id)
        return channel if isinstance(channel, discord.TextChannel) else None

    def _link(self, session: SessionInfo) -> str | None:
        return join_link(session.guild_id, session.join_url, session.voice_channel_id)

    # ------------------------------------------------------------ reminders

    async def send_reminder(self, reminder: ReminderDelivery) -> Outcome:
        session = reminder.session
        link = self._link(session)
        text = reminder_text(reminder.kind, title=session.title, coach_name=session.coach_name,
                             student_id=session.student_id, start_at=session.start_at,
                             for_coach=reminder.for_coach, late=reminder.late,
                             channel_id=session.text_channel_id, has_link=link is not None)
        starting = reminder.kind == START
        embed = discord.Embed(
            title=("Starting now: " if starting else "Coming up: ") + session.title,
            colour=CARD_COLOUR, timestamp=session.start_at)
        embed.add_field(name="When", value=f"{timestamp(session.start_at, 'F')} "
                                           f"({timestamp(session.start_at, 'R')})")
        location = SessionLocation(session.text_channel_id, session.voice_channel_id,
                                   session.join_url)
        embed.add_field(name="Where", value=where_text(session.location_kind, location)[:1024])
        if session.text_channel_id is not None:
            embed.add_field(name="Session channel", value=f"<#{session.text_channel_id}>")
        marker = reminder_marker(reminder.reminder_id)
        embed.set_footer(text=marker)
        letter = Letter(text, footer_is(marker), embed=embed,
                        view=card_view(session.booking_id, link, before_start=not starting),
                        fallback_lead="is your reminder:")
        return await deliver(self.bot, reminder.recipient_id, letter,
                             interrupted=reminder.interrupted, fallback=self._channel(session))

    # ------------------------------------------------------------ start

    async def session_started(self, session: SessionInfo) -> Outcome:
        """The card in the session channel gets the coach's no-show buttons."""
        channel = self._channel(session)
        if channel is None or session.card_message_id is None:
            return Outcome.done("no session card to add the no-show buttons to")
        view = card_view_with_no_show(session.booking_id, self._link(session))
        try:
            await channel.get_partial_message(session.card_message_id).edit(view=view)
        except discord.NotFound:
            return Outcome.done("the session card was deleted")
        except discord.HTTPException as error:
            return Outcome.retry(f"could not add the no-show buttons to the card: "
                                 f"{http_error_text(error)}")
        return Outcome.done()

    # ------------------------------------------------------------ end

    async def close_channel(self, session: SessionInfo, *, user_ids: Sequence[int],
                            delete_at: datetime) -> Outcome:
        guild = self._guild(session)
        if guild is None:
            return Outcome.wait(cleanup.NOT_IN_SERVER)
        return await cleanup.make_read_only(guild, session, list(user_ids), delete_at=delete_at)

    async def remove_role(self, guild_id: int, user_id: int, role_id: int, *,
                          reason: str) -> Outcome:
        return await cleanup.remove_role(self.bot.get_guild(guild_id), user_id, role_id,
                                         reason=reason)

    async def send_rating_request(self, session: SessionInfo, *, interrupted: bool,
                                  editable_until: datetime) -> Outcome:
        marker = rating_marker(session.booking_id)
        embed = discord.Embed(title=f"Rate your session: {session.title}", colour=CARD_COLOUR,
                              timestamp=session.start_at)
        embed.set_footer(text=marker)
        text = rating_request_text(title=session.title, coach_name=session.coach_name,
                                   until=editable_until)
        letter = Letter(text, footer_is(marker), embed=embed,
                        view=rating_view(session.booking_id),
                        fallback_lead="is the rating request for your session:")
        return await deliver(self.bot, session.student_id, letter, interrupted=interrupted,
                             fallback=self._channel(session))

    async def send_transcript(self, session: SessionInfo, recipient_id: int, *,
                              interrupted: bool) -> Outcome:
        channel = self._channel(session)
        if channel is None:
            if self._guild(session) is None:
                return Outcome.wait(cleanup.NOT_IN_SERVER)
            return Outcome.skipped("the session channel no longer exists")
        try:
            attachment = await cleanup.transcript_of(channel, session,
                                                     generated_at=self.bot.services.clock())
        except discord.HTTPException as error:
            return Outcome.retry(f"could not read <#{channel.id}>: {http_error_text(error)}")
        text = (f"Here is the transcript of your session **{session.title}** "
                f"({timestamp(session.start_at, 'D')}): its channel is being deleted now, as "
                "the server keeps session channels only for a while.")
        letter = Letter(text, has_file(transcript_filename(session.booking_id)),
                        attachment=attachment)
        return await deliver(self.bot, recipient_id, letter, interrupted=interrupted,
                             fallback=None)

    async def delete_channels(self, session: SessionInfo) -> Outcome:
        return await cleanup.delete_channels(self._guild(session), session)


# ---------------------------------------------------------------- for other features


def runner_of(bot: CoachBot) -> SessionRunner | None:
    cog = bot.get_cog(COG_NAME)
    return getattr(cog, "runner", None)


def _runner(bot: CoachBot) -> SessionRunner:
    runner = runner_of(bot)
    if runner is None:
        raise RuntimeError("the Lifecycle cog is not loaded")
    return runner


async def run_due(bot: CoachBot) -> DueReport:
    """Do every reminder and task due now (the scheduler does this by itself when a wake-up
    fires; tests with a fake clock call it after moving the clock)."""
    return await _runner(bot).run_due()


async def bookings_changed(bot: CoachBot, booking_ids: Collection[int]) -> None:
    """These bookings' work was planned or re-planned: move their wake-ups."""
    runner = runner_of(bot)
    if runner is not None:
        await runner.refresh(set(booking_ids))


async def reschedule_booking_jobs(bot: CoachBot, booking_id: int) -> None:
    """Call after moving a booking: reminders and tasks follow the new time."""
    await _runner(bot).reschedule_booking(booking_id)


async def cancel_booking_jobs(bot: CoachBot, booking_id: int) -> None:
    """Call after cancelling a booking: no more reminders; channel closed, role released."""
    await _runner(bot).cancel_booking(booking_id)
