"""The rating DM's buttons: 1 to 5 stars, then an optional written feedback (a modal).

The buttons are `DynamicItem`s whose custom_id carries the booking id (and the stars), so they
work after a restart; only the session's student may press them (the service checks it).
"""

from __future__ import annotations

import re
from typing import Any, Final

import discord

from bot.errors import report_error
from bot.ui import ReportingModal
from scheduling.errors import NotAllowed
from scheduling.lifecycle import (
    FEEDBACK_MAX,
    RatingResult,
    average_text,
    leave_feedback,
    rate_session,
    stars_text,
    timestamp,
)

RATE_ID: Final = "rate:{booking_id}:{stars}"
FEEDBACK_ID: Final = "rate:feedback:{booking_id}"
FEEDBACK_FIELD: Final = "feedback"


def _services(interaction: discord.Interaction) -> Any:
    return interaction.client.services  # type: ignore[attr-defined]


class RateButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=r"rate:(?P<id>\d+):(?P<stars>[1-5])"):
    def __init__(self, booking_id: int, stars: int, *, chosen: bool = False) -> None:
        super().__init__(discord.ui.Button(
            label=f"{stars} ★", custom_id=RATE_ID.format(booking_id=booking_id, stars=stars),
            style=discord.ButtonStyle.success if chosen else discord.ButtonStyle.secondary))
        self.booking_id = booking_id
        self.stars = stars

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str]) -> RateButton:
        return cls(int(match["id"]), int(match["stars"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        services = _services(interaction)
        try:
            result = await rate_session(services.uow, self.booking_id,
                                        user_id=interaction.user.id, stars=self.stars,
                                        now=services.clock())
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)
            return
        await interaction.response.edit_message(content=rated_text(result),
                                                view=rating_view(self.booking_id, self.stars))


def rated_text(result: RatingResult) -> str:
    changed = "" if result.previous is None else f" (was {result.previous})"
    average = average_text(result.coach_rating_sum, result.coach_rating_count)
    return (f"You rated this session {stars_text(result.stars)} ({result.stars}/5){changed}. "
            f"Thank you! Your coach now has {average}. "
            f"You can change your rating until {timestamp(result.editable_until, 'f')}, "
            "and add written feedback with the button below.")


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                     template=r"rate:feedback:(?P<id>\d+)"):
    def __init__(self, booking_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Add feedback", style=discord.ButtonStyle.primary,
            custom_id=FEEDBACK_ID.format(booking_id=booking_id)))
        self.booking_id = booking_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any],
                             match: re.Match[str]) -> FeedbackButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            async with _services(interaction).uow() as uow:  # read only: who may write
                context = await uow.provisioning.context(self.booking_id)
            if context is None or context.booking.student_id != interaction.user.id:
                raise NotAllowed("Only the student of this session can give feedback on it.")
        except Exception as error:
            await report_error(interaction, error)
            return
        await interaction.response.send_modal(FeedbackModal(self.booking_id))


class FeedbackModal(ReportingModal, title="Feedback for your coach"):
    def __init__(self, booking_id: int) -> None:
        super().__init__(custom_id=f"rate:feedback-modal:{booking_id}", timeout=900)
        self.booking_id = booking_id
        self.text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
            label="What went well, what could be better?", style=discord.TextStyle.paragraph,
            custom_id=FEEDBACK_FIELD, max_length=FEEDBACK_MAX, required=True)
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = _services(interaction)
        await leave_feedback(services.uow, self.booking_id, user_id=interaction.user.id,
                             text=self.text.value, now=services.clock())
        await interaction.response.send_message(
            "Thanks! Your feedback was saved.", ephemeral=True)


def rating_view(booking_id: int, chosen: int | None = None) -> discord.ui.View:
    """Five star buttons (the chosen one highlighted) and, once rated, the feedback button."""
    view = discord.ui.View(timeout=None)
    for stars in range(1, 6):
        view.add_item(RateButton(booking_id, stars, chosen=stars == chosen))
    if chosen is not None:
        view.add_item(FeedbackButton(booking_id))
    return view


DYNAMIC_ITEMS: Final = (RateButton, FeedbackButton)
