"""Provisioning a confirmed booking on Discord, once: role, private channels, join link,
session card and DMs (the plan and the texts are in `scheduling/provisioning.py`).

    outcome = await provision_booking(bot, booking_id)  # after the booking is confirmed
    await retry_unfinished(bot)  # every few minutes: cogs/provisioning_retry.py

Each step runs only if its `provisioning_steps` row is not done, and its result (the channel or
message id, the booking's channel/link columns, the role grant) is written in the same unit of
work that marks it done. Steps that create something on Discord first commit an "in flight"
mark; if the process stops before the result is written, the next attempt looks for what the
interrupted one made (a channel named `session-{id}-...`, a message carrying the card's
`Booking #id` footer) instead of making a second one.

A failed step never undoes the booking: its error is recorded on the step (still pending, its
attempts counted), the server's log channel gets a message naming the fix (once per distinct
problem, not at every retry) and the step is retried later. Runs for the same session (one
booking, or the seats of one group session) are serialised within the process.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.audit_log import log_channel_problem
from bot.dm import Attachment, DMClosed, only_pings, send_card_dm
from bot.guild_facts import bot_outranks
from bot.session_card import card_embed, card_view, find_sent, join_link, paid_for_card
from bot.session_channels import admit, category_for, create_channel, find_made
from bot.step_results import StepDone, StepFailed, fail, http_error_text
from scheduling import ics
from scheduling import provisioning as plan
from scheduling.errors import NotFound
from scheduling.money import Money
from scheduling.offerings import LOCATIONS, SESSION_TYPES
from scheduling.provisioning import (
    CARD,
    DM_COACH,
    DM_STUDENT,
    DONE,
    FAILED,
    IN_FLIGHT,
    JOIN_LINK,
    PENDING,
    ROLE,
    TEXT_CHANNEL,
    VOICE_CHANNEL,
    Problem,
    ProvisioningOutcome,
    SessionLocation,
)

if TYPE_CHECKING:
    from bot.client import CoachBot
    from storage.models import ProvisioningStep
    from storage.repositories.provisioning import ProvisioningContext
    from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Steps with a Discord side effect that must not happen twice: an in-flight mark comes first.
GUARDED: Final = frozenset({TEXT_CHANNEL, VOICE_CHANNEL, CARD, DM_STUDENT, DM_COACH})
DMS_CLOSED_NOTE: Final = "DMs closed: the card was posted in the session channel instead"
RETRY_BATCH: Final = 50

_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _session_lock(key: str) -> asyncio.Lock:
    lock = _locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _locks[key] = lock
    return lock


@dataclass
class _Run:
    """One provisioning run of one booking."""

    bot: CoachBot
    guild: discord.Guild
    context: ProvisioningContext
    location: SessionLocation
    now: datetime
    paid: Money | None = None  # the receipt line of the card and DMs
    interrupted: bool = False
    fixed: list[str] = field(default_factory=list)

    @property
    def booking_id(self) -> int:
        return self.context.booking.id

    @property
    def reason(self) -> str:
        return f"Coachbot booking #{self.booking_id}"

    @property
    def link(self) -> str | None:
        return join_link(self.guild.id, self.location.join_url, self.location.voice_channel_id)


# ---------------------------------------------------------------- public entry points


async def provision_booking(bot: CoachBot, booking_id: int) -> ProvisioningOutcome:
    """Do every provisioning step of a confirmed booking that is not done yet.

    Safe to call any number of times, concurrently too: done steps are skipped. Discord
    failures do not raise: they are recorded, reported to the log channel and left pending for
    `retry_unfinished`; the outcome lists them. A booking that is not confirmed (or in progress)
    any more is skipped (`outcome.skipped`). Raises NotFound for an unknown booking id.
    """
    async with bot.services.uow() as uow:  # read only: which session to serialise on
        context = await uow.provisioning.context(booking_id)
    if context is None:
        raise NotFound("That booking no longer exists.")
    async with _session_lock(context.booking.slot_key):
        return await _provision(bot, booking_id)


@dataclass(frozen=True)
class RetryReport:
    given_up: int
    outcomes: tuple[ProvisioningOutcome, ...]


async def retry_unfinished(bot: CoachBot, *, limit: int = RETRY_BATCH) -> RetryReport:
    """Run the unfinished steps of active bookings that have not ended, in the servers this
    process serves; steps of bookings that ended (or were cancelled) first become failed."""
    now = bot.services.clock()
    guild_ids = [g.id for g in bot.guilds]
    async with bot.services.uow(immediate=True) as uow:
        given_up = await uow.provisioning.give_up_ended(now)
        candidates = (await uow.provisioning.unfinished_bookings(
            now, limit=limit, guild_ids=guild_ids) if guild_ids else [])
        await uow.commit()
    outcomes = []
    for booking_id, _guild_id in candidates:
        try:
            outcomes.append(await provision_booking(bot, booking_id))
        except Exception:
            log.exception("provisioning retry of booking %s failed", booking_id)
    return RetryReport(given_up, tuple(outcomes))


# ---------------------------------------------------------------- the run


async def _provision(bot: CoachBot, booking_id: int) -> ProvisioningOutcome:
    async with bot.services.uow() as uow:
        context = await uow.provisioning.context(booking_id)
        paid = await paid_for_card(uow, booking_id) if context is not None else None
    if context is None:
        raise NotFound("That booking no longer exists.")
    booking, offering = context.booking, context.offering
    location = SessionLocation(booking.text_channel_id, booking.voice_channel_id,
                               booking.join_url)
    if booking.status not in plan.PROVISIONED_STATUSES:
        return ProvisioningOutcome(booking_id, location=location,
                                   skipped=f"the booking is {booking.status.replace('_', ' ')}")
    steps = plan.plan_steps(offering.session_type, offering.location_kind)
    records = {r.step: r for r in context.steps}
    guild = bot.get_guild(booking.guild_id)
    if guild is None:
        return _not_in_server(booking_id, steps, records, location)

    run = _Run(bot, guild, context, location, bot.services.clock(), paid=paid)
    done: list[str] = []
    pending: dict[str, str] = {}
    notes: dict[str, str] = {}
    for step in steps:
        record = records.get(step)
        if record is not None and record.status == DONE:
            done.append(step)
            if record.last_error:
                notes[step] = record.last_error
            continue
        if record is not None and record.status == FAILED:
            pending[step] = record.last_error or "given up"
            continue
        blockers = plan.waiting_for(step, steps, done)
        if blockers:
            pending[step] = "waiting for: " + ", ".join(plan.STEP_LABELS[b] for b in blockers)
            continue
        result = await _attempt(run, step, record)
        if isinstance(result, StepDone):
            done.append(step)
            if result.note:
                notes[step] = result.note
        else:
            pending[step] = result.failure.message
            for reopened in result.reopen:
                if reopened in done:
                    done.remove(reopened)
                    pending[reopened] = result.failure.message
    if run.fixed:
        await _post_log(guild, context, plan.fixed_line(booking_id, run.fixed))
    return ProvisioningOutcome(booking_id, done=tuple(s for s in steps if s in done),
                               pending=pending, notes=notes, location=run.location)


def _not_in_server(booking_id: int, steps: tuple[str, ...],
                   records: Mapping[str, ProvisioningStep], location: SessionLocation
                   ) -> ProvisioningOutcome:
    """The bot left the booking's server: nothing can be done there (steps stay pending until
    the session ends, in case it is invited back)."""
    message = Problem.NOT_IN_SERVER.text()
    log.warning("booking %s: %s", booking_id, message)
    done = tuple(s for s in steps if s in records and records[s].status == DONE)
    return ProvisioningOutcome(booking_id, location=location, done=done,
                               pending={s: message for s in steps if s not in done})


_ERROR_ID = re.compile(r"error id `\w+`")


def _same_problem(previous: str | None, message: str) -> bool:
    if previous is None:
        return False
    return _ERROR_ID.sub("", previous) == _ERROR_ID.sub("", message)


async def _attempt(run: _Run, step: str,
                   record: ProvisioningStep | None) -> StepDone | StepFailed:
    """Run one step and record its result; never raises for Discord failures."""
    services = run.bot.services
    booking_id = run.booking_id
    previous = record.last_error if record is not None else None
    guarded = step in GUARDED
    run.interrupted = plan.was_interrupted(record)
    if guarded:
        async with services.uow(immediate=True) as uow:
            await uow.provisioning.begin(booking_id, step)
            await uow.commit()
    try:
        result = await STEPS[step](run)
    except StepFailed as failed:
        outcome: StepDone | StepFailed = failed
    except Exception as error:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error_id=%s provisioning step %s of booking %s failed unexpectedly",
                      error_id, step, booking_id, exc_info=error)
        outcome = fail(Problem.UNEXPECTED, type(error).__name__, error_id=error_id)
    else:
        outcome = result

    await _save(run, step, outcome, count_attempt=not guarded)

    if isinstance(outcome, StepDone):
        if outcome.location:
            run.location = replace(run.location, **outcome.location)
        if previous is not None and previous != IN_FLIGHT:
            run.fixed.append(step)
        if outcome.admin_note:
            await _post_log(run.guild, run.context, plan.log_line(
                booking_id, run.context.offering.title, run.context.booking.start_at,
                outcome.admin_note))
        return outcome
    for reopened in outcome.reopen:
        run.location = replace(run.location, **{REOPEN_CLEARS[reopened]: None})
    log.warning("booking %s: step %s failed: %s", booking_id, step, outcome.failure.message)
    if not _same_problem(previous, outcome.failure.message):
        await _post_log(run.guild, run.context, plan.log_line(
            booking_id, run.context.offering.title, run.context.booking.start_at,
            outcome.failure.message))
    return outcome


# A done step that must run again (what it made is gone) and the booking column it clears.
REOPEN_CLEARS: Final = {TEXT_CHANNEL: "text_channel_id", VOICE_CHANNEL: "voice_channel_id"}


async def _save(run: _Run, step: str, outcome: StepDone | StepFailed, *,
                count_attempt: bool) -> None:
    """Record the step's result and what it changed on the booking, in one unit of work."""
    booking_id = run.booking_id
    async with run.bot.services.uow(immediate=True) as uow:
        if isinstance(outcome, StepDone):
            if outcome.location:
                await uow.provisioning.set_location(booking_id, **outcome.location)
            if outcome.grant is not None:
                await _record_grant(uow, booking_id, outcome.grant, run.now)
            await uow.provisioning.finish(booking_id, step, DONE,
                                          external_id=outcome.external_id,
                                          detail=outcome.note, count_attempt=count_attempt)
        else:
            await uow.provisioning.finish(booking_id, step, PENDING,
                                          detail=outcome.failure.message,
                                          count_attempt=count_attempt)
            for reopened in outcome.reopen:
                await uow.provisioning.finish(booking_id, reopened, PENDING,
                                              detail=outcome.failure.message)
                await uow.provisioning.set_location(booking_id,
                                                    **{REOPEN_CLEARS[reopened]: None})
        await uow.commit()


async def _record_grant(uow: UnitOfWork, booking_id: int, grant: Mapping[str, Any],
                        now: datetime) -> None:
    """One grant row per booking and role, even if the step were ever run twice."""
    existing = await uow.role_grants.for_booking(booking_id)
    if any(g.role_id == grant["role_id"] for g in existing):
        return
    await uow.role_grants.record(booking_id=booking_id, granted_at=now, **grant)


async def _post_log(guild: discord.Guild, context: ProvisioningContext, text: str) -> bool:
    """Tell the server's admins (log channel); a missing log channel only leaves a warning."""
    channel_id = context.settings.log_channel_id if context.settings else None
    if channel_id is None:
        log.warning("guild %s has no log channel; not posted: %s", guild.id, text)
        return False
    problem = log_channel_problem(guild, channel_id)
    channel = guild.get_channel(channel_id)
    if problem is not None or not isinstance(channel, discord.TextChannel):
        log.warning("log channel %s of guild %s unusable (%s); not posted: %s",
                    channel_id, guild.id, problem, text)
        return False
    try:
        await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("could not post to log channel %s of guild %s: %s", channel_id, guild.id,
                    error)
        return False
    return True


# ---------------------------------------------------------------- members


async def _member(run: _Run, user_id: int) -> discord.Member | None:
    member = run.guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await run.guild.fetch_member(user_id)
    except discord.NotFound:
        return None


def _name(member: discord.abc.User | None, fallback: str) -> str:
    return member.display_name if member is not None else fallback


# ---------------------------------------------------------------- steps


async def _role(run: _Run) -> StepDone:
    context = run.context
    booking, guild = context.booking, run.guild
    access_role_id = context.settings.access_role_id if context.settings else None
    role_id, source = plan.role_to_grant(context.offering.role_id, access_role_id)
    if role_id is None:
        return StepDone(note=plan.NOTHING_TO_GRANT)
    top = guild.me.top_role
    values = {"member": f"<@{booking.student_id}>", "role": f"<@&{role_id}>",
              "bot_role": top.mention, "bot_role_name": top.name,
              "where": "`/offering edit`" if source == "offering" else "`/coaching setup`"}
    member = await _member(run, booking.student_id)
    if member is None:
        raise fail(Problem.MEMBER_LEFT, **values)
    role = guild.get_role(role_id)
    if role is None:
        raise fail(Problem.ROLE_DELETED, **values)
    values["role"] = role.mention
    if role.is_default() or role.managed:
        raise fail(Problem.ROLE_UNASSIGNABLE, **values)
    has_role = member.get_role(role_id) is not None
    if not has_role:
        if not guild.me.guild_permissions.manage_roles:
            raise fail(Problem.NO_MANAGE_ROLES, **values)
        if not bot_outranks(guild, role):
            raise fail(Problem.ROLE_ABOVE_BOT, **values)
    async with run.bot.services.uow() as uow:  # read only
        grants = await uow.role_grants.active_for_member(guild.id, member.id, role_id)
    had_before = plan.had_role_before(has_role, grants)
    grant = {"guild_id": guild.id, "user_id": member.id, "role_id": role_id,
             "had_before": had_before}
    if not has_role:
        # Recorded before Discord is asked: if the process stops after add_roles, the retry
        # finds this grant and does not mistake the bot's own role for one the member had.
        async with run.bot.services.uow(immediate=True) as uow:
            await _record_grant(uow, booking.id, grant, run.now)
            await uow.commit()
        try:
            await member.add_roles(role, reason=run.reason)
        except discord.HTTPException as error:
            async with run.bot.services.uow(immediate=True) as uow:
                await uow.role_grants.forget(booking.id, role_id)
                await uow.commit()
            raise fail(Problem.ROLE_REFUSED, http_error_text(error), **values) from error
    return StepDone(external_id=role_id, grant=grant)


async def _channel(run: _Run, *, voice: bool) -> StepDone:
    context = run.context
    booking, offering, guild = context.booking, context.offering, run.guild
    video = offering.session_type == "video"
    column = "voice_channel_id" if voice else "text_channel_id"
    kind = discord.VoiceChannel if voice else discord.TextChannel
    if offering.capacity > 1:  # seats of a group session share its channels
        async with run.bot.services.uow() as uow:
            shared = await uow.provisioning.group_location(booking)
        shared_id = getattr(shared, column)
        channel = guild.get_channel(shared_id) if shared_id is not None else None
        if isinstance(channel, kind):
            await admit(channel, booking.student_id, voice=voice, video=video,
                        reason=run.reason)
            return StepDone(external_id=channel.id, location={column: channel.id})
    if run.interrupted:
        made = find_made(guild, booking.id, kind)
        if made is not None:
            return StepDone(external_id=made.id, location={column: made.id})
    student = await _member(run, booking.student_id)
    label = offering.title if offering.capacity > 1 else _name(student, "student")
    category, missing_note = category_for(
        guild, context.settings.category_id if context.settings else None)
    channel = await create_channel(
        guild, voice=voice, name=plan.channel_name(booking.id, label),
        topic=plan.channel_topic(booking.id, offering.title, context.coach.display_name,
                                 booking.start_at),
        category=category, participant_ids=[booking.student_id, context.coach.user_id],
        video=video, reason=run.reason)
    return StepDone(external_id=channel.id, location={column: channel.id},
                    note=missing_note, admin_note=missing_note)


async def _text_channel(run: _Run) -> StepDone:
    return await _channel(run, voice=False)


async def _voice_channel(run: _Run) -> StepDone:
    return await _channel(run, voice=True)


async def _join_link(run: _Run) -> StepDone:
    context = run.context
    offering, booking = context.offering, context.booking
    shared = None
    if offering.capacity > 1:
        async with run.bot.services.uow() as uow:
            shared = (await uow.provisioning.group_location(booking)).join_url
    jitsi = ((context.settings.jitsi_base_url if context.settings else None)
             or run.bot.services.settings.meetings.jitsi_base_url)
    url = plan.join_url_for(offering.location_kind, fixed_url=offering.location_url,
                            jitsi_base=jitsi, shared_url=shared)
    if url is None:
        return StepDone(note="no meeting link is set on the offering")
    return StepDone(location={"join_url": url})


def _card_parts(run: _Run) -> tuple[discord.Embed, discord.ui.View]:
    context = run.context
    card = plan.session_card(context.booking, context.offering, context.coach, run.location,
                             paid=run.paid,
                             policy=plan.policy_of(context.offering, context.settings))
    return card_embed(card), card_view(run.booking_id, run.link)


def _session_channel(run: _Run) -> discord.TextChannel:
    channel_id = run.location.text_channel_id
    channel = run.guild.get_channel(channel_id) if channel_id is not None else None
    if not isinstance(channel, discord.TextChannel):
        raise fail(Problem.CHANNEL_GONE, channel_id=channel_id, reopen=(TEXT_CHANNEL,))
    perms = channel.permissions_for(run.guild.me)
    if not (perms.view_channel and perms.send_messages and perms.embed_links
            and perms.attach_files):
        raise fail(Problem.CANNOT_POST, channel_id=channel.id)
    return channel


CARD_GREETING: Final = "{student} {coach} your private session channel is ready."


async def _card(run: _Run) -> StepDone:
    booking = run.context.booking
    channel = _session_channel(run)
    marker = plan.card_marker(run.booking_id)
    if run.interrupted:
        sent = await find_sent(channel, run.guild.me.id, marker,
                               lambda m: m.content.endswith("session channel is ready."))
        if sent is not None:
            return StepDone(external_id=sent.id)
    embed, view = _card_parts(run)
    coach_id = run.context.coach.user_id
    content = CARD_GREETING.format(student=f"<@{booking.student_id}>", coach=f"<@{coach_id}>")
    try:
        message = await channel.send(content, embed=embed, view=view,
                                     allowed_mentions=only_pings(booking.student_id, coach_id))
    except discord.HTTPException as error:
        raise fail(Problem.CANNOT_POST, http_error_text(error), channel_id=channel.id) from error
    return StepDone(external_id=message.id)


def _calendar(run: _Run, student_name: str) -> Attachment:
    context = run.context
    booking, offering, coach = context.booking, context.offering, context.coach
    text_channel = run.location.text_channel_id
    event = ics.SessionEvent(
        booking_id=booking.id, title=offering.title, start=booking.start_at,
        end=booking.end_at, coach=ics.Participant(coach.user_id, coach.display_name),
        student=ics.Participant(booking.student_id, student_name),
        session_type=SESSION_TYPES.get(offering.session_type, offering.session_type),
        join_url=run.link,
        where=LOCATIONS.get(offering.location_kind),
        channel_url=(plan.channel_url(run.guild.id, text_channel)
                     if text_channel is not None else None),
        sequence=booking.reschedule_count)
    return Attachment(ics.filename_for(booking.id), ics.session_calendar(event, now=run.now))


DM_CLOSED_TEXT: Final = ("{mention} I could not send you a DM (your direct messages are closed "
                         "for this server), so here are your session details and calendar file.")


async def _dm(run: _Run, *, to_student: bool) -> StepDone:
    context = run.context
    booking, offering, coach = context.booking, context.offering, context.coach
    user_id = booking.student_id if to_student else coach.user_id
    student = await _member(run, booking.student_id)
    student_name = _name(student, "Student")
    recipient: discord.abc.User | None = (student if to_student
                                          else await _member(run, coach.user_id))
    recipient = recipient or run.bot.get_user(user_id)
    marker = plan.card_marker(run.booking_id)
    when = plan.timestamp(booking.start_at, "F")
    if to_student:
        content = (f"You are booked: **{offering.title}** with **{coach.display_name}**, {when}. "
                   "The calendar file adds it to your calendar.")
    else:
        content = (f"New booking: **{student_name}** booked **{offering.title}** with you, "
                   f"{when}. The calendar file adds it to your calendar.")
    attachment = _calendar(run, student_name)
    if recipient is not None:
        if run.interrupted:
            try:
                dm_channel = recipient.dm_channel or await recipient.create_dm()
            except discord.HTTPException:
                dm_channel = None
            sent = (await find_sent(dm_channel, run.guild.me.id, marker, lambda m: True)
                    if dm_channel is not None else None)
            if sent is not None:
                return StepDone(external_id=sent.id)
        embed, view = _card_parts(run)
        try:
            message = await send_card_dm(recipient, content=content, embed=embed, view=view,
                                         attachment=attachment)
        except DMClosed:
            pass
        except discord.HTTPException as error:
            raise fail(Problem.DM_FAILED, http_error_text(error),
                       member=f"<@{user_id}>") from error
        else:
            return StepDone(external_id=message.id)
    return await _post_instead_of_dm(run, user_id, attachment)


async def _post_instead_of_dm(run: _Run, user_id: int, attachment: Attachment) -> StepDone:
    """Closed DMs: the card and calendar file go to the private channel, mentioning them."""
    if run.location.text_channel_id is None:
        raise fail(Problem.DM_CLOSED_NO_CHANNEL, member=f"<@{user_id}>")
    channel = _session_channel(run)
    mention = f"<@{user_id}>"
    if run.interrupted:
        sent = await find_sent(channel, run.guild.me.id, plan.card_marker(run.booking_id),
                               lambda m: m.content.startswith(f"{mention} I could not send"))
        if sent is not None:
            return StepDone(external_id=sent.id, note=DMS_CLOSED_NOTE)
    embed, view = _card_parts(run)
    try:
        message = await channel.send(DM_CLOSED_TEXT.format(mention=mention), embed=embed,
                                     view=view, file=attachment.file(),
                                     allowed_mentions=only_pings(user_id))
    except discord.HTTPException as error:
        raise fail(Problem.CANNOT_POST, http_error_text(error), channel_id=channel.id) from error
    return StepDone(external_id=message.id, note=DMS_CLOSED_NOTE)


async def _dm_student(run: _Run) -> StepDone:
    return await _dm(run, to_student=True)


async def _dm_coach(run: _Run) -> StepDone:
    return await _dm(run, to_student=False)


STEPS: Final[dict[str, Callable[[_Run], Awaitable[StepDone]]]] = {
    ROLE: _role,
    TEXT_CHANNEL: _text_channel,
    VOICE_CHANNEL: _voice_channel,
    JOIN_LINK: _join_link,
    CARD: _card,
    DM_STUDENT: _dm_student,
    DM_COACH: _dm_coach,
}
