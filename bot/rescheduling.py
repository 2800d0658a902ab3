"""The Discord side of rescheduling (`scheduling/rescheduling.py` decides, this acts).

    await start_reschedule(interaction, booking_id)  # /reschedule, the card's button

answers (ephemerally) with the policy's reason when the session may not be moved, else with
the next days with free times of the same offering -> the times of a day -> **Move it** /
**Keep it**. Move it moves the booking in one transaction (the payment stays as it is), then
moves its reminders and tasks, updates the private channel's topic, DMs both parties the new
time with the updated calendar file (same UID, higher SEQUENCE) and posts to the log channel.
When someone took the time meanwhile, the nearest free times are offered instead.

`RescheduleButton` (custom_id `session:reschedule:{booking_id}`) is a `DynamicItem`: it works on
session cards and in DMs after a restart; who may press it is re-checked by the service.

Imports of `bot.lifecycle` stay inside functions: `bot.session_card` imports this module.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.dm import notify
from bot.errors import report_error
from bot.ui import OwnedView
from scheduling import book_flow, ics
from scheduling import rescheduling as service
from scheduling.booking_rules import OpenSlot
from scheduling.eligibility import StudentFacts
from scheduling.errors import InvalidInput, SlotTaken
from scheduling.provisioning import timestamp as _ts
from scheduling.rescheduling import RescheduleContext, Rescheduled

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

RESCHEDULE_ID: Final = "session:reschedule:{booking_id}"
DAY_ID: Final = "reschedule:day"
SLOT_ID: Final = "reschedule:slot"
ALTERNATIVE_ID: Final = "reschedule:alternative"
CONFIRM_ID: Final = "reschedule:confirm"
BACK_ID: Final = "reschedule:back"
KEEP_ID: Final = "reschedule:keep"
VIEW_TIMEOUT: Final = 10 * 60
COLOUR: Final = discord.Colour.gold()
KEPT: Final = "Nothing was moved: your session stays at its time."
NO_DAYS: Final = ("There are no free times for **{title}** in the booking window right now, "
                  "so the session stays where it is. Try again later.")




def student_facts(bot: CoachBot, guild_id: int, user: discord.abc.User) -> StudentFacts:
    """What `/book` checks about the student, read from the server's member cache (so the
    card's button works the same in the private channel and in a DM)."""
    guild = bot.get_guild(guild_id)
    member = guild.get_member(user.id) if guild is not None else None
    if member is None and isinstance(user, discord.Member) and user.guild.id == guild_id:
        member = user
    if member is None:
        return StudentFacts(user.id, False, False, frozenset())
    return StudentFacts(user.id, True, bool(member.pending),
                        frozenset(r.id for r in member.roles))


async def start_reschedule(interaction: discord.Interaction, booking_id: int) -> None:
    """Reply (ephemerally) with the days the session can move to, or the reason it can't."""
    bot: CoachBot = interaction.client  # type: ignore[assignment]
    now = bot.services.clock()
    async with bot.services.uow() as uow:  # read only
        booking = await uow.bookings.get(booking_id)
        guild_id = booking.guild_id if booking is not None else (interaction.guild_id or 0)
        context = await service.reschedule_context(
            uow, booking_id, interaction.user.id, now=now,
            student=student_facts(bot, guild_id, interaction.user))
        zone = await book_flow.shown_zone(uow, interaction.user.id, context.coach_zone)
        flow = RescheduleFlow(bot, interaction.user.id, context, zone)
        screen = await flow.days_screen(uow)
    await interaction.response.send_message(**screen, ephemeral=True)


class FlowSelect(discord.ui.Select["RescheduleFlow"]):
    def __init__(self, custom_id: str, options: list[discord.SelectOption], placeholder: str,
                 on_pick: Any) -> None:
        super().__init__(custom_id=custom_id, options=options[:25], placeholder=placeholder)
        self.on_pick = on_pick

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_pick(interaction, self.values[0])


class FlowButton(discord.ui.Button["RescheduleFlow"]):
    def __init__(self, custom_id: str, label: str, on_press: Any,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        super().__init__(custom_id=custom_id, label=label, style=style, row=4)
        self.on_press = on_press

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_press(interaction)


class RescheduleFlow(OwnedView):
    """day -> time -> Move it, in one ephemeral message (items swapped, message edited)."""

    def __init__(self, bot: CoachBot, owner_id: int, context: RescheduleContext,
                 zone: book_flow.ShownZone) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.context = context
        self.zone = zone
        self.day: date | None = None
        self.start: datetime | None = None
        self.alternatives: list[OpenSlot] = []
        self.busy = False

    @property
    def now(self) -> datetime:
        return self.bot.services.clock()

    def show(self, *items: discord.ui.Item[Any]) -> RescheduleFlow:
        self.clear_items()
        for item in items:
            self.add_item(item)
        return self

    def _header(self) -> str:
        c = self.context
        left = c.max_reschedules - c.reschedule_count
        return (f"Reschedule **{c.title}** with **{c.coach_name}**, now on {_ts(c.start_at)}. "
                f"Your payment stays as it is. Reschedules left: {left}.")

    def _keep(self) -> FlowButton:
        return FlowButton(KEEP_ID, "Keep it", self.on_keep)

    async def days_screen(self, uow: Any, note: str | None = None) -> dict[str, Any]:
        days = await service.open_days(uow, self.context, zone=self.zone.name, now=self.now)
        lines = [self._header()]
        if note:
            lines.append(note)
        if not days:
            lines.append(NO_DAYS.format(title=self.context.title))
            return {"content": "\n".join(lines), "embeds": [], "view": self.show(self._keep())}
        lines += [book_flow.zone_note(self.zone, self.now), "Pick a new day:"]
        select = FlowSelect(DAY_ID, [discord.SelectOption(label=d.label, value=d.day.isoformat())
                                     for d in days], "Pick a day", self.on_day)
        return {"content": "\n".join(lines), "embeds": [], "view": self.show(select, self._keep())}

    async def slots_screen(self, uow: Any, note: str | None = None) -> dict[str, Any]:
        assert self.day is not None
        slots = await service.slots_of_day(uow, self.context, self.day, zone=self.zone.name,
                                           now=self.now)
        if not slots:
            return await self.days_screen(uow, note="No free times are left on that day. "
                                                    "Pick another one.")
        day = f"{self.day:%A} {self.day.day} {self.day:%B}"
        lines = [self._header()]
        if note:
            lines.append(note)
        lines.append(f"Pick a new time on **{day}** (times in {self.zone.name}).")
        shown = slots[:25]
        select = FlowSelect(SLOT_ID, [discord.SelectOption(
            label=book_flow.time_label(s.start, self.zone.name), value=book_flow.slot_value(s))
            for s in shown], "Pick a time", self.on_slot)
        embed = discord.Embed(title=f"Free times on {day}", colour=COLOUR,
                              description="\n".join(_ts(s.start) for s in shown))
        return {"content": "\n".join(lines), "embeds": [embed],
                "view": self.show(select, FlowButton(BACK_ID, "Back", self.on_back),
                                  self._keep())}

    def summary_screen(self) -> dict[str, Any]:
        assert self.start is not None
        c = self.context
        end = self.start + (c.end_at - c.start_at)
        embed = discord.Embed(title=f"Move {c.title}?"[:256], colour=COLOUR)
        embed.add_field(name="From", value=f"{_ts(c.start_at)}", inline=False)
        embed.add_field(name="To", value=f"{_ts(self.start)} – {_ts(end, 't')}", inline=False)
        embed.add_field(name="Payment", value="Stays as it is: nothing new to pay.",
                        inline=False)
        embed.add_field(name="Policy", value="\n".join(f"- {line}"
                                                       for line in c.policy_lines)[:1024],
                        inline=False)
        embed.set_footer(text=f"booking #{c.booking_id}")
        return {"content": "Check the new time and press **Move it**.", "embeds": [embed],
                "view": self.show(FlowButton(CONFIRM_ID, "Move it", self.on_confirm,
                                             discord.ButtonStyle.success),
                                  FlowButton(BACK_ID, "Back", self.on_back), self._keep())}

    def taken_screen(self, message: str) -> dict[str, Any]:
        items: list[discord.ui.Item[Any]] = []
        embeds = []
        if self.alternatives:
            items.append(FlowSelect(ALTERNATIVE_ID, [discord.SelectOption(
                label=book_flow.when_label(s.start, self.zone.name),
                value=book_flow.slot_value(s)) for s in self.alternatives],
                "Pick another time", self.on_alternative))
            embeds.append(discord.Embed(title="Nearest free times", colour=COLOUR,
                                        description="\n".join(_ts(s.start)
                                                              for s in self.alternatives)))
        else:
            message += "\nNo other free times are close to it: press **Back** to pick a day."
        self.day = None
        return {"content": message, "embeds": embeds,
                "view": self.show(*items, FlowButton(BACK_ID, "Back", self.on_back),
                                  self._keep())}

    # ------------------------------------------------------------ handlers

    async def on_day(self, interaction: discord.Interaction, value: str) -> None:
        self.day = book_flow.parse_day(value)
        async with self.bot.services.uow() as uow:
            screen = await self.slots_screen(uow)
        await interaction.response.edit_message(**screen)

    async def on_slot(self, interaction: discord.Interaction, value: str) -> None:
        start = book_flow.parse_start(value)
        assert self.day is not None
        async with self.bot.services.uow() as uow:
            slots = await service.slots_of_day(uow, self.context, self.day,
                                               zone=self.zone.name, now=self.now)
            if not any(s.start == start for s in slots):
                screen = await self.slots_screen(uow, note="That time was just taken. "
                                                           "Pick another one.")
                await interaction.response.edit_message(**screen)
                return
        self.start = start
        await interaction.response.edit_message(**self.summary_screen())

    async def on_alternative(self, interaction: discord.Interaction, value: str) -> None:
        start = book_flow.parse_start(value)
        if not any(s.start == start for s in self.alternatives):
            raise InvalidInput("Pick one of the times in the list.")
        self.start = start
        self.day = book_flow.local_day(start, self.zone.name)
        await interaction.response.edit_message(**self.summary_screen())

    async def on_back(self, interaction: discord.Interaction) -> None:
        async with self.bot.services.uow() as uow:
            if self.start is not None and self.day is not None:
                self.start = None
                screen = await self.slots_screen(uow)
            else:
                self.start, self.day = None, None
                screen = await self.days_screen(uow)
        await interaction.response.edit_message(**screen)

    async def on_keep(self, interaction: discord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(content=KEPT, embeds=[], view=None)

    async def on_confirm(self, interaction: discord.Interaction) -> None:
        assert self.start is not None
        if self.busy:
            return
        self.busy = True
        try:
            await interaction.response.defer()
            try:
                done = await service.reschedule_booking(
                    self.bot.services.uow, self.context.booking_id, interaction.user.id,
                    self.start, now=self.now,
                    student=student_facts(self.bot, self.context.guild_id, interaction.user))
            except SlotTaken as taken:
                self.alternatives = [s for s in taken.alternatives if isinstance(s, OpenSlot)]
                self.start = None
                await interaction.edit_original_response(**self.taken_screen(taken.user_message))
                return
        finally:
            self.busy = False
        self.stop()
        await carry_out(self.bot, done)
        await interaction.edit_original_response(content=moved_reply(done), embeds=[],
                                                 view=None)


def moved_reply(done: Rescheduled) -> str:
    return (f"**{done.context.title}** moved from {_ts(done.old_start)} to "
            f"{_ts(done.new_start)}. Your payment stays as it is; your coach has been told and "
            "both of you have the updated calendar file in your DMs.")


def coach_text(done: Rescheduled) -> str:
    return (f"<@{done.context.student_id}> rescheduled **{done.context.title}** from "
            f"{_ts(done.old_start)} to {_ts(done.new_start)} ({_ts(done.new_start, 'R')}). "
            "The attached file updates your calendar.")


def student_text(done: Rescheduled) -> str:
    return (f"Your session **{done.context.title}** with {done.context.coach_name} now starts "
            f"{_ts(done.new_start)} ({_ts(done.new_start, 'R')}), instead of "
            f"{_ts(done.old_start)}. Your reminders moved with it. The attached file updates "
            "your calendar.")


async def carry_out(bot: CoachBot, done: Rescheduled) -> None:
    """After the commit: jobs, channel topic, DMs, log channel. Failures are logged, never
    raised (the reschedule stands)."""
    from bot.lifecycle import reschedule_booking_jobs  # bot.lifecycle imports the session card

    booking_id = done.context.booking_id
    try:
        await reschedule_booking_jobs(bot, booking_id)
    except Exception:
        log.exception("could not move the jobs of rescheduled booking %s", booking_id)
    await update_topic(bot, done)
    try:
        student_file, coach_file = await calendar_files(bot, done)
    except Exception:
        log.exception("could not build the calendar update of booking %s", booking_id)
        student_file = coach_file = None
    await notify(bot, done.context.student_id, student_text(done), file=student_file,
                 about="a reschedule")
    await notify(bot, done.context.coach_user_id, coach_text(done), file=coach_file,
                 about="a reschedule")
    await post_log(bot, done)
    # The old time is free now: offer it to the first student on the waitlist.
    from bot.waitlist import slot_freed

    await slot_freed(bot, done.context.coach_id, done.context.offering_id, done.old_start)


async def update_topic(bot: CoachBot, done: Rescheduled) -> None:
    """The private channel's topic names the time: follow the move (1-on-1 channels only: a
    group's channel is shared with the other students)."""
    from scheduling.provisioning import channel_topic

    if done.text_channel_id is None or done.context.is_group:
        return
    channel = bot.get_channel(done.text_channel_id)
    if not isinstance(channel, discord.TextChannel):
        return
    try:
        await channel.edit(topic=channel_topic(done.context.booking_id, done.context.title,
                                               done.context.coach_name, done.new_start))
    except discord.HTTPException as error:
        log.warning("could not update the topic of booking %s's channel: %s",
                    done.context.booking_id, error)


async def calendar_files(bot: CoachBot, done: Rescheduled) -> tuple[discord.File, discord.File]:
    """The updated event (same UID, SEQUENCE = the reschedule count), one file per DM."""
    from scheduling.offerings import LOCATIONS, SESSION_TYPES
    from scheduling.provisioning import channel_url

    async with bot.services.uow() as uow:  # read only
        booking = await uow.bookings.get(done.context.booking_id)
        offering = await uow.offerings.get(done.context.offering_id)
    student = bot.get_user(done.context.student_id)
    event = ics.SessionEvent(
        booking_id=done.context.booking_id, title=done.context.title, start=done.new_start,
        end=done.new_end,
        coach=ics.Participant(done.context.coach_user_id, done.context.coach_name),
        student=ics.Participant(done.context.student_id,
                                student.display_name if student else "Student"),
        session_type=(SESSION_TYPES.get(offering.session_type, offering.session_type)
                      if offering else ""),
        join_url=booking.join_url if booking else None,
        where=LOCATIONS.get(offering.location_kind) if offering else None,
        channel_url=(channel_url(done.context.guild_id, done.text_channel_id)
                     if done.text_channel_id is not None else None))
    data = ics.rescheduled_calendar(event, reschedule_count=done.reschedule_count, now=done.at)
    name = ics.filename_for(done.context.booking_id)
    return (discord.File(io.BytesIO(data), filename=name),
            discord.File(io.BytesIO(data), filename=name))




def log_embed(done: Rescheduled) -> discord.Embed:
    c = done.context
    embed = discord.Embed(title="Session rescheduled", colour=COLOUR, timestamp=done.at)
    embed.add_field(name="Who", value=f"<@{done.actor_id}> (student)", inline=False)
    embed.add_field(name="Session", value=f"#{c.booking_id} {c.title}; student "
                    f"<@{c.student_id}>, coach <@{c.coach_user_id}>"[:1024], inline=False)
    embed.add_field(name="From", value=_ts(done.old_start), inline=True)
    embed.add_field(name="To", value=_ts(done.new_start), inline=True)
    embed.add_field(name="Reschedules", value=f"{done.reschedule_count} of "
                    f"{c.max_reschedules}", inline=True)
    embed.set_footer(text=f"action: {service.AUDIT_ACTION}")
    return embed


async def post_log(bot: CoachBot, done: Rescheduled) -> bool:
    from bot.audit_log import log_channel_problem

    guild = bot.get_guild(done.context.guild_id)
    if guild is None or done.log_channel_id is None:
        return False
    problem = log_channel_problem(guild, done.log_channel_id)
    channel = guild.get_channel(done.log_channel_id)
    if problem is not None or not isinstance(channel, discord.TextChannel):
        log.warning("reschedule of booking %s not posted to the log channel: %s",
                    done.context.booking_id, problem)
        return False
    try:
        await channel.send(embed=log_embed(done),
                           allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("reschedule of booking %s not posted to the log channel: %s",
                    done.context.booking_id, error)
        return False
    return True


class RescheduleButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                       template=r"session:reschedule:(?P<id>\d+)"):
    """The session card's Reschedule: the same flow as `/reschedule`."""

    def __init__(self, booking_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Reschedule", style=discord.ButtonStyle.secondary,
            custom_id=RESCHEDULE_ID.format(booking_id=booking_id)))
        self.booking_id = booking_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str],
                             ) -> RescheduleButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await start_reschedule(interaction, self.booking_id)
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)


DYNAMIC_ITEMS: Final = (RescheduleButton,)
