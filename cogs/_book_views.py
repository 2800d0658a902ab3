"""The pieces of the `/book` flow's message: its state, the view (owner-only, expires after 15
minutes), its selects and buttons, the questions modal, and the embeds (free times, summary).

The flow lives in one ephemeral message that is edited step by step; its `FlowState` belongs to
the `BookFlow` of the person who ran `/book` (`cogs/_book_flow.py`) and is never shared. One
view per flow is reused at every step (its items are swapped), so discord.py never keeps
handlers of an earlier step. A flow need not survive a restart: after one, its buttons stop
answering and `/book` starts again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.errors import send_ephemeral
from bot.ui import OwnedView, ReportingModal
from scheduling.book_flow import (
    EXPIRED,
    OfferingInfo,
    Option,
    ShownZone,
    Summary,
    is_expired,
    seats_text,
    timestamp,
)
from scheduling.booking_rules import OpenSlot
from scheduling.eligibility import StudentFacts
from scheduling.provisioning import NO_ANSWER
from scheduling.referrals import Referral

if TYPE_CHECKING:
    from bot.client import CoachBot

VIEW_TIMEOUT: Final = 20 * 60  # seconds; the flow itself expires after 15 minutes
FLOW_COLOUR: Final = discord.Colour.green()
FIELD_MAX: Final = 1024

OnPick = Callable[[discord.Interaction, str], Awaitable[None]]
OnPress = Callable[[discord.Interaction], Awaitable[None]]
OnAnswers = Callable[[discord.Interaction, list[str]], Awaitable[None]]


def student_facts(interaction: discord.Interaction) -> StudentFacts:
    """What Discord says about the person booking. Membership screening is read from the
    interaction and from the member cache (kept current by the members intent): a member still
    pending in either is treated as pending."""
    user = interaction.user
    guild = interaction.guild
    is_member = isinstance(user, discord.Member) and interaction.guild_id is not None
    cached = guild.get_member(user.id) if guild is not None else None
    pending = bool(getattr(user, "pending", False)) or bool(cached is not None and cached.pending)
    roles = frozenset(r.id for r in getattr(user, "roles", ()))
    return StudentFacts(user.id, is_member, pending, roles)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------- flow state


@dataclass
class FlowState:
    guild_id: int
    owner_id: int
    screen: str = ""
    coach_select: bool = False  # the coach select was shown (Back from offerings goes there)
    offering_coach_id: int | None = None  # whose offering select was shown
    offering: OfferingInfo | None = None
    zone: ShownZone | None = None
    day: date | None = None
    slot_page: int = 0
    start: datetime | None = None
    seats_left: int | None = None
    answers: tuple[tuple[str, str], ...] = ()
    alternatives: list[OpenSlot] = field(default_factory=list)
    confirming: bool = False
    weeks: int = 1  # repeat weekly for this many weeks (1: just once)
    credits_left: int = 0  # the student's usable package credits for the offering
    referral: Referral | None = None  # the code given to /book
    only_starts: tuple[datetime, ...] | None = None  # "book the free weeks" of a series
    last_action: str = ""  # confirm | credit | pay: what "book the free weeks" repeats


def select_options(options: list[Option]) -> list[discord.SelectOption]:
    return [discord.SelectOption(label=o.label or "-", value=o.value,
                                 description=o.description or None)
            for o in options[:25]]


# ---------------------------------------------------------------- view and items


class FlowView(OwnedView):
    """One view per flow, reused at every step (items are swapped, the message edited)."""

    def __init__(self, bot: CoachBot, owner_id: int, started_at: datetime) -> None:
        super().__init__(owner_id, timeout=VIEW_TIMEOUT)
        self.bot = bot
        self.started_at = started_at

    def expired(self) -> bool:
        return is_expired(self.started_at, self.bot.services.clock())

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not await super().interaction_check(interaction):
            return False
        if self.expired():
            await send_ephemeral(interaction, EXPIRED)
            return False
        return True

    def show(self, *items: discord.ui.Item[Any]) -> FlowView:
        self.clear_items()
        for item in items:
            self.add_item(item)
        return self


class FlowSelect(discord.ui.Select[FlowView]):
    def __init__(self, custom_id: str, options: Sequence[discord.SelectOption], *,
                 placeholder: str, on_pick: OnPick, row: int = 0) -> None:
        super().__init__(custom_id=custom_id, options=list(options)[:25],
                         placeholder=placeholder[:150], row=row)
        self.on_pick = on_pick

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_pick(interaction, self.values[0])


class FlowButton(discord.ui.Button[FlowView]):
    def __init__(self, custom_id: str, label: str, *, on_press: OnPress,
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 row: int = 4, disabled: bool = False) -> None:
        super().__init__(custom_id=custom_id, label=label, style=style, row=row,
                         disabled=disabled)
        self.on_press = on_press

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.on_press(interaction)


class QuestionsModal(ReportingModal):
    """The offering's questions, required/optional and short/paragraph as the coach set them;
    what was typed before is prefilled when the student comes back to change it."""

    def __init__(self, view: FlowView, info: OfferingInfo,
                 previous: Sequence[tuple[str, str]], on_answers: OnAnswers) -> None:
        super().__init__(title=clip(f"Before you book: {info.title}", 45),
                         timeout=VIEW_TIMEOUT)
        self.flow_view = view
        self.on_answers = on_answers
        self.inputs: list[discord.ui.TextInput[QuestionsModal]] = []
        earlier = dict(previous)
        for question in info.questions:
            paragraph = question.style == "paragraph"
            text_input: discord.ui.TextInput[QuestionsModal] = discord.ui.TextInput(
                label=clip(question.label, 45), custom_id=f"q{question.position}",
                style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
                required=question.required, max_length=question.max_length,
                default=earlier.get(question.label) or None)
            self.inputs.append(text_input)
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if self.flow_view.expired():
            await send_ephemeral(interaction, EXPIRED)
            return
        await self.on_answers(interaction, [i.value for i in self.inputs])


# ---------------------------------------------------------------- embeds


def slots_embed(title: str, slots: Sequence[OpenSlot], *, group: bool) -> discord.Embed:
    """Free times as Discord timestamps: every student reads them in their own timezone."""
    lines = []
    for slot in slots:
        line = f"{timestamp(slot.start, 't')} – {timestamp(slot.end, 't')}"
        if group:
            line += f" · {seats_text(slot.seats_left)}"
        lines.append(line)
    return discord.Embed(title=title, colour=FLOW_COLOUR,
                         description=clip("\n".join(lines) or "No free times.", 4096))


def summary_embed(summary: Summary, *, title: str = "Your booking") -> discord.Embed:
    embed = discord.Embed(title=title, colour=FLOW_COLOUR)
    embed.add_field(name="Offering", value=clip(summary.title, FIELD_MAX), inline=False)
    embed.add_field(name="Coach", value=clip(
        f"<@{summary.coach_user_id}> ({summary.coach_name})", FIELD_MAX), inline=False)
    embed.add_field(name="When", value=f"{timestamp(summary.start, 'F')} "
                                       f"({timestamp(summary.start, 'R')})", inline=False)
    embed.add_field(name="Duration", value=summary.duration_text)
    embed.add_field(name="Price", value=summary.price_text)
    if summary.seats_left is not None:
        embed.add_field(name="Seats", value=seats_text(summary.seats_left))
    for label, answer in summary.answers:
        embed.add_field(name=clip(label, 256), value=clip(answer or NO_ANSWER, FIELD_MAX),
                        inline=False)
    return embed


def alternatives_embed(slots: Sequence[OpenSlot], *, group: bool) -> discord.Embed:
    lines = []
    for slot in slots:
        line = f"{timestamp(slot.start, 'F')}"
        if group:
            line += f" · {seats_text(slot.seats_left)}"
        lines.append(line)
    return discord.Embed(title="Nearest free times", colour=FLOW_COLOUR,
                         description="\n".join(lines) or "None nearby.")
