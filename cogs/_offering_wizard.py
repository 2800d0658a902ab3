"""The `/offering create` wizard: an ephemeral message with the card preview, one step's
settings, buttons and selects; modals for the free-text fields.

Every button and select is a `DynamicItem` whose custom_id carries the offering id, the step
the message shows and the action (``offering:<id>:<step>:<action>``), so a wizard message keeps
working after the bot restarts: the draft and its step live in the database. Each press checks
again that the presser owns the offering and is still a coach. Errors raised in callbacks and
modals are reported through `bot.errors.report_error` (discord.py only logs errors raised by
dynamic items, so the items catch them themselves).
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import report_error
from bot.ui import NOT_YOURS, ReportingModal
from cogs._offering_card import card_attachments, card_embed, needs_upload
from scheduling import offerings as service
from scheduling.coach_access import CoachRecord
from scheduling.errors import InvalidInput, NotFound
from scheduling.offering_fields import (
    DESCRIPTION_MAX,
    IMAGE_TYPES,
    QUESTION_LABEL_MAX,
    TITLE_MAX,
    URL_MAX,
    ImageUpload,
    check_image_attachment,
    check_image_bytes,
)
from scheduling.offerings import LOCATIONS, SESSION_TYPES, STEPS, WizardState

if TYPE_CHECKING:
    from bot.client import CoachBot
    from storage.uow import UnitOfWork

LAST_STEP = service.LAST_STEP
PENDING_PREFIX = "pending-thumbnail."
NEW = 0  # the offering id in custom_ids of "start a new offering" buttons

INSTRUCTIONS = {
    1: "This is the card students will see. Set the title, a thumbnail (upload a picture with "
       "the `thumbnail` option of `/offering create` or `/offering edit`, or paste a link) and "
       "an accent colour.",
    2: "Describe the session and set its price, length, session type and seats, plus up to 5 "
       "questions students answer when they book.",
    3: "Choose which of your schedules students book from and how its hours are cut into "
       "slots. Add hours with `/availability add`.",
    4: "Cancellation policy, reminders, where sessions happen and an optional role for booked "
       "students. Publish when you are ready.",
}


# ---------------------------------------------------------------- rendering


@dataclass
class Rendered:
    content: str
    embeds: list[discord.Embed]
    attachments: list[discord.Attachment | discord.File]
    view: discord.ui.View | None = None

    def edit_kwargs(self) -> dict[str, Any]:
        return {"content": self.content, "embeds": self.embeds, "attachments": self.attachments,
                "view": self.view}

    def send_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"content": self.content, "embeds": self.embeds,
                                  "files": [a for a in self.attachments
                                            if isinstance(a, discord.File)]}
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs


def _nav(view: discord.ui.View, state: WizardState) -> None:
    oid, step = state.offering_id, state.step
    view.add_item(WizardButton(oid, step, "back", label="Back", row=4, disabled=step == 1))
    if step < LAST_STEP:
        view.add_item(WizardButton(oid, step, "next", label=f"Next: {STEPS[step + 1]}", row=4,
                                   style=discord.ButtonStyle.primary))
    elif state.status != "published":
        view.add_item(WizardButton(oid, step, "publish", label="Publish", row=4,
                                   style=discord.ButtonStyle.success))
    if state.is_draft:
        view.add_item(WizardButton(oid, step, "cancel", label="Cancel", row=4,
                                   style=discord.ButtonStyle.danger))
    else:
        view.add_item(WizardButton(oid, step, "done", label="Done", row=4))


def wizard_view(state: WizardState) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    oid, step = state.offering_id, state.step
    if step == 1:
        view.add_item(WizardButton(oid, step, "look", label="Edit title, link & colour",
                                   style=discord.ButtonStyle.primary, row=0))
        view.add_item(WizardButton(oid, step, "clear_thumbnail", label="Remove thumbnail",
                                   row=0, disabled=not state.has_thumbnail))
    elif step == 2:
        view.add_item(WizardSelect(oid, step, "session_type", row=0, options=[
            discord.SelectOption(label=label, value=value, default=value == state.session_type)
            for value, label in SESSION_TYPES.items()]))
        if state.questions:
            view.add_item(WizardSelect(oid, step, "remove_question", row=1,
                                       placeholder="Remove a question…", options=[
                discord.SelectOption(label=f"{q.position + 1}. {q.label}"[:100],
                                     value=str(q.position)) for q in state.questions]))
        view.add_item(WizardButton(oid, step, "checkout", label="Edit description, price & length",
                                   style=discord.ButtonStyle.primary, row=2))
        view.add_item(WizardButton(oid, step, "add_question", label="Add a question", row=2))
        view.add_item(WizardButton(
            oid, step, "promotions", row=2, label="Stop promotion codes"
            if state.allow_promotion_codes else "Allow promotion codes"))
    elif step == 3:
        options = [discord.SelectOption(label=f"Schedule: {name}"[:100], value=str(sid),
                                        default=sid == state.schedule_id)
                   for sid, name in state.schedules[:25]]
        if options:
            view.add_item(WizardSelect(oid, step, "schedule", row=0, options=options))
        view.add_item(WizardButton(oid, step, "timing", label="Interval, buffers, notice & window",
                                   style=discord.ButtonStyle.primary, row=1))
        view.add_item(WizardButton(oid, step, "limits", label="Limits per day & student", row=1))
    else:
        view.add_item(WizardSelect(oid, step, "location", row=0, options=[
            discord.SelectOption(label=label, value=value, default=value == state.location_kind)
            for value, label in LOCATIONS.items()]))
        view.add_item(WizardRoleSelect(oid, step, row=1, role_id=state.role_id))
        view.add_item(WizardButton(oid, step, "policy", label="Cancellation policy",
                                   style=discord.ButtonStyle.primary, row=2))
        view.add_item(WizardButton(oid, step, "reminders", label="Reminders", row=2))
    _nav(view, state)
    return view


def _headline(state: WizardState) -> str:
    where = f"step {state.step} of {LAST_STEP} · {STEPS[state.step]}"
    if state.is_draft:
        head = f"**{state.title}**: new offering, {where}"
    else:
        status = service.STATUS_LABELS.get(state.status, state.status).lower()
        head = f"Editing **{state.title}** ({status}), {where}. Changes are saved as you go."
    lines = [head, INSTRUCTIONS[state.step]]
    if state.missing:
        lines.append("Still needed before publishing: " + "; ".join(state.missing) + ".")
    return "\n".join(lines)


def settings_embed(state: WizardState) -> discord.Embed:
    embed = discord.Embed(title=f"Step {state.step} of {LAST_STEP} · {STEPS[state.step]}",
                          colour=discord.Colour.dark_grey())
    for item in state.settings:
        embed.add_field(name=item.name, value=item.value[:1024] or "-", inline=item.inline)
    if state.is_draft:
        embed.set_footer(text="Your draft is saved at every step. Close this any time and "
                              "continue with /offering edit.")
    return embed


async def render_step(uow: UnitOfWork, coach: CoachRecord, offering: Any, step: int,
                      message: discord.Message | None) -> Rendered:
    """Move the draft to `step` and build the wizard message for it."""
    step = await service.go_to_step(uow, coach, offering, step)
    state = await service.wizard_state(uow, coach, offering, step)
    data = (await service.thumbnail_bytes(uow, offering.id)
            if needs_upload(state.card, message) else None)
    return Rendered(_headline(state), [card_embed(state.card, preview=True),
                                       settings_embed(state)],
                    card_attachments(state.card, message, data), wizard_view(state))


async def render_card(uow: UnitOfWork, coach: CoachRecord, offering: Any, content: str,
                      message: discord.Message | None) -> Rendered:
    """A final message: `content` and the offering card, no buttons."""
    card = await service.card_for(uow, coach, offering)
    data = (await service.thumbnail_bytes(uow, offering.id)
            if needs_upload(card, message) else None)
    return Rendered(content, [card_embed(card)], card_attachments(card, message, data))


async def show(interaction: discord.Interaction, rendered: Rendered) -> None:
    """Replace the message the interaction came from (or answered) with `rendered`."""
    if interaction.response.is_done():
        await interaction.edit_original_response(**rendered.edit_kwargs())
    else:
        await interaction.response.edit_message(**rendered.edit_kwargs())


async def send_new(interaction: discord.Interaction, rendered: Rendered) -> None:
    """Answer with a new ephemeral message (follow-up when the response was deferred)."""
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=True, **rendered.send_kwargs())
    else:
        await interaction.response.send_message(ephemeral=True, **rendered.send_kwargs())


# ---------------------------------------------------------------- shared plumbing


def _bot(interaction: discord.Interaction) -> CoachBot:
    return interaction.client  # type: ignore[return-value]


async def current_coach(uow: UnitOfWork, interaction: discord.Interaction) -> CoachRecord:
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member):
        raise InvalidInput("Offerings are managed inside a server. Run this there.")
    return await service.coach_for(
        uow, guild_id=interaction.guild_id, user_id=user.id,
        role_ids=[r.id for r in user.roles], display_name=user.display_name,
        avatar_url=user.display_avatar.url)


async def read_image(attachment: discord.Attachment) -> ImageUpload:
    """Download and check an uploaded thumbnail (call after deferring: it is network I/O)."""
    check_image_attachment(attachment.filename, attachment.content_type, attachment.size)
    try:
        data = await attachment.read()
    except discord.HTTPException:
        raise InvalidInput("I could not download that picture from Discord. Upload it again."
                           ) from None
    return check_image_bytes(attachment.filename, attachment.content_type, data)


def pending_upload(message: discord.Message | None) -> discord.Attachment | None:
    """A picture carried by a resume prompt, waiting to become the thumbnail."""
    if message is None:
        return None
    return next((a for a in message.attachments if a.filename.startswith(PENDING_PREFIX)), None)


Change = Callable[["UnitOfWork", CoachRecord, Any], Awaitable[Any]]


async def change_and_show(interaction: discord.Interaction, offering_id: int, step: int,
                          change: Change | None = None) -> None:
    """Apply `change` to the caller's offering (all or nothing), then redraw the wizard at
    `step` in place."""
    async with _bot(interaction).services.uow() as uow:
        coach = await current_coach(uow, interaction)
        offering = await service.load_owned(uow, coach, offering_id)
        if change is not None:
            await change(uow, coach, offering)
        rendered = await render_step(uow, coach, offering, step, interaction.message)
        await uow.commit()
    await show(interaction, rendered)


async def load_state(interaction: discord.Interaction, offering_id: int,
                     step: int) -> WizardState:
    """The wizard state (for prefilling a modal) without changing anything."""
    async with _bot(interaction).services.uow() as uow:
        coach = await current_coach(uow, interaction)
        offering = await service.load_owned(uow, coach, offering_id)
        return await service.wizard_state(uow, coach, offering, step)


# ---------------------------------------------------------------- modals


def _text(custom_id: str, label: str, form: Mapping[str, str] | None = None, *,
          placeholder: str | None = None, required: bool = True, max_length: int = 100,
          paragraph: bool = False) -> discord.ui.TextInput[Any]:
    """A text input prefilled from `form[custom_id]`."""
    value = (form or {}).get(custom_id, "")
    return discord.ui.TextInput(
        custom_id=custom_id, label=label, default=value[:max_length] or None,
        placeholder=placeholder, required=required, max_length=max_length,
        style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short)


class LookModal(ReportingModal, title="Step 1 · Look"):
    """Title, thumbnail link and colour; for a new offering it creates the draft."""

    def __init__(self, offering_id: int, form: Mapping[str, str] | None = None, *,
                 attachment: discord.Attachment | None = None) -> None:
        super().__init__()
        self.offering_id = offering_id
        self.attachment = attachment
        self.title_input = _text("title", "Title", form, max_length=TITLE_MAX,
                                 placeholder="Manuscript review")
        self.thumbnail_input = _text("thumbnail_url", "Thumbnail link (optional)", form,
                                     required=False, max_length=URL_MAX,
                                     placeholder="https://example.com/picture.png")
        self.colour_input = _text("colour", "Accent colour (optional)", form, required=False,
                                  max_length=20, placeholder="#5865F2, blue, green, purple…")
        for item in (self.title_input, self.thumbnail_input, self.colour_input):
            self.add_item(item)

    def form(self) -> service.LookForm:
        return service.LookForm(self.title_input.value, self.thumbnail_input.value,
                                self.colour_input.value)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = self.form()
        if self.offering_id != NEW:
            await change_and_show(interaction, self.offering_id, 1,
                                  lambda uow, coach, o: service.update_look(uow, o, form))
            return
        service.validate_look(form)  # refuse bad input before deferring
        upload = self.attachment or pending_upload(interaction.message)
        if interaction.message is None:
            await interaction.response.defer(ephemeral=True, thinking=True)
        else:
            await interaction.response.defer()
        image = await read_image(upload) if upload is not None else None
        async with _bot(interaction).services.uow() as uow:
            coach = await current_coach(uow, interaction)
            offering = await service.create_draft(uow, coach, form, image)
            rendered = await render_step(uow, coach, offering, 1, None)
            await uow.commit()
        if interaction.message is None:
            await send_new(interaction, rendered)
        else:
            await show(interaction, rendered)


class CheckoutModal(ReportingModal, title="Step 2 · Checkout"):
    def __init__(self, state: WizardState, currency: str) -> None:
        super().__init__()
        self.offering_id, self.step = state.offering_id, state.step
        form = state.form
        self.description = _text("description", "Description", form, paragraph=True,
                                 max_length=DESCRIPTION_MAX,
                                 placeholder="What the student gets from the session")
        self.price = _text("price", f"Price in {currency} (0 = free)", form, max_length=20,
                           placeholder="25")
        self.duration = _text("duration", "Duration in minutes (15 to 480)", form,
                              max_length=20, placeholder="60, 90m or 1h30")
        self.capacity = _text("capacity", "Seats (1 = one-on-one, more = group)", form,
                              max_length=6, placeholder="1")
        for item in (self.description, self.price, self.duration, self.capacity):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = service.CheckoutForm(self.description.value, self.price.value,
                                    self.duration.value, self.capacity.value)
        stripe = _bot(interaction).services.settings.stripe_configured
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.update_checkout(
                                  uow, o, form, stripe_configured=stripe))


class QuestionModal(ReportingModal, title="Add a question"):
    def __init__(self, offering_id: int, step: int) -> None:
        super().__init__()
        self.offering_id, self.step = offering_id, step
        self.label = _text("label", "Question", max_length=QUESTION_LABEL_MAX,
                           placeholder="What would you like to work on?")
        self.style = discord.ui.Select(custom_id="style", options=[
            discord.SelectOption(label="Short answer (one line)", value="short", default=True),
            discord.SelectOption(label="Paragraph", value="paragraph")])
        self.required = discord.ui.Select(custom_id="required", options=[
            discord.SelectOption(label="Required", value="required", default=True),
            discord.SelectOption(label="Optional", value="optional")])
        self.add_item(self.label)
        self.add_item(discord.ui.Label(text="Answer style", component=self.style))
        self.add_item(discord.ui.Label(text="Must the student answer?", component=self.required))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        style = self.style.values[0] if self.style.values else "short"
        required = (self.required.values[0] if self.required.values else "required") == "required"
        label = self.label.value
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.add_question(
                                  uow, o, label, style, required))


class TimingModal(ReportingModal, title="Step 3 · Slots and notice"):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.offering_id, self.step = state.offering_id, state.step
        form = state.form
        self.interval = _text("interval", "Slot interval (empty = the duration)", form,
                              required=False, max_length=20, placeholder="30, 1h")
        self.before = _text("buffer_before", "Buffer before, 0 to 120 min", form,
                            required=False, max_length=20, placeholder="0")
        self.after = _text("buffer_after", "Buffer after, 0 to 120 min", form, required=False,
                           max_length=20, placeholder="10")
        self.notice = _text("notice", "Minimum notice", form, required=False, max_length=20,
                            placeholder="2h, 90m, 1d")
        self.window = _text("window_days", "Booking window in days (1 to 365)", form,
                            max_length=3, placeholder="60")
        for item in (self.interval, self.before, self.after, self.notice, self.window):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = service.TimingForm(self.interval.value, self.before.value, self.after.value,
                                  self.notice.value, self.window.value)
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.update_timing(uow, o, form))


class LimitsModal(ReportingModal, title="Step 3 · Limits"):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.offering_id, self.step = state.offering_id, state.step
        self.per_day = _text("max_per_day", "Max bookings per day (empty = no limit)",
                             state.form, required=False, max_length=6)
        self.per_student = _text("max_per_student", "Max upcoming per student (empty = none)",
                                 state.form, required=False, max_length=6)
        self.add_item(self.per_day)
        self.add_item(self.per_student)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = service.LimitsForm(self.per_day.value, self.per_student.value)
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.update_limits(uow, o, form))


class PolicyModal(ReportingModal, title="Step 4 · Cancellation policy"):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.offering_id, self.step = state.offering_id, state.step
        form = state.form
        self.tiers = _text("tiers", "Refunds (empty = server default)", form, required=False,
                           max_length=200, placeholder="48h 100%, 24h 50%   (none = no refunds)")
        self.reschedules = _text("max_reschedules", "Reschedules allowed (0 to 10)", form,
                                 required=False, max_length=2, placeholder="1")
        self.notice = _text("reschedule_notice", "Reschedule until, hours before", form,
                            required=False, max_length=5, placeholder="24")
        for item in (self.tiers, self.reschedules, self.notice):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = service.PolicyForm(self.tiers.value, self.reschedules.value, self.notice.value)
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.update_policy(uow, o, form))


class RemindersModal(ReportingModal, title="Step 4 · Reminders"):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.offering_id, self.step = state.offering_id, state.step
        self.reminders = _text("reminders", "Remind before the session (up to 5)", state.form,
                               required=False, max_length=100,
                               placeholder="24h, 1h   (empty = no reminders)")
        self.add_item(self.reminders)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        text = self.reminders.value
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.update_reminders(uow, o, text))


class MeetingLinkModal(ReportingModal, title="Step 4 · Your meeting link"):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.offering_id, self.step = state.offering_id, state.step
        self.url = _text("location_url", "Meeting link (http or https)", state.form,
                         max_length=URL_MAX, placeholder="https://zoom.us/j/123456789")
        self.add_item(self.url)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        url = self.url.value
        await change_and_show(interaction, self.offering_id, self.step,
                              lambda uow, coach, o: service.set_location(uow, o, "fixed", url))


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Press:
    interaction: discord.Interaction
    offering_id: int
    step: int
    values: tuple[str, ...] = ()


async def _open_modal(press: Press, build: Callable[[WizardState], discord.ui.Modal]) -> None:
    state = await load_state(press.interaction, press.offering_id, press.step)
    await press.interaction.response.send_modal(build(state))


async def _move(press: Press, delta: int) -> None:
    await change_and_show(press.interaction, press.offering_id, press.step + delta)


async def _look(press: Press) -> None:
    state = await load_state(press.interaction, press.offering_id, press.step)
    await press.interaction.response.send_modal(LookModal(press.offering_id, state.form))


async def _clear_thumbnail(press: Press) -> None:
    await change_and_show(press.interaction, press.offering_id, press.step,
                          lambda uow, coach, o: service.clear_thumbnail(uow, o))


async def _checkout(press: Press) -> None:
    async with _bot(press.interaction).services.uow() as uow:
        coach = await current_coach(uow, press.interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        state = await service.wizard_state(uow, coach, offering, press.step)
        currency = await service.server_currency(uow, offering.guild_id)
    await press.interaction.response.send_modal(CheckoutModal(state, currency))


async def _add_question(press: Press) -> None:
    async with _bot(press.interaction).services.uow() as uow:
        coach = await current_coach(uow, press.interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        await service.ensure_room_for_question(uow, offering)
    await press.interaction.response.send_modal(QuestionModal(press.offering_id, press.step))


async def _publish(press: Press) -> None:
    interaction = press.interaction
    stripe = _bot(interaction).services.settings.stripe_configured
    async with _bot(interaction).services.uow() as uow:
        coach = await current_coach(uow, interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        result = await service.publish(uow, coach, offering, stripe_configured=stripe)
        rendered = await render_card(uow, coach, offering, published_text(result),
                                     interaction.message)
        await uow.commit()
    await show(interaction, rendered)


def published_text(result: service.PublishResult) -> str:
    lines = [f"**{result.card.title}** is published: students can book it now. Change it any "
             "time with `/offering edit`, hide it with `/offering unpublish`."]
    lines += result.warnings
    return "\n".join(lines)


async def _cancel(press: Press) -> None:
    async with _bot(press.interaction).services.uow() as uow:
        coach = await current_coach(uow, press.interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        title, is_draft = offering.title, offering.status == "draft"
    if not is_draft:
        await _done(press)
        return
    view = discord.ui.View(timeout=None)
    view.add_item(WizardButton(press.offering_id, press.step, "discard", label="Discard draft",
                               style=discord.ButtonStyle.danger))
    view.add_item(WizardButton(press.offering_id, press.step, "keep", label="Keep editing"))
    await press.interaction.response.edit_message(
        content=f"Discard the draft **{title}**? Everything in it will be lost.",
        embeds=[], attachments=[], view=view)


async def _discard(press: Press) -> None:
    async with _bot(press.interaction).services.uow() as uow:
        coach = await current_coach(uow, press.interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        title = await service.discard_draft(uow, offering)
        await uow.commit()
    await press.interaction.response.edit_message(
        content=f"Draft **{title}** discarded. Start again with `/offering create`.",
        embeds=[], attachments=[], view=None)


async def _done(press: Press) -> None:
    interaction = press.interaction
    async with _bot(interaction).services.uow() as uow:
        coach = await current_coach(uow, interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        status = service.STATUS_LABELS.get(offering.status, offering.status).lower()
        rendered = await render_card(
            uow, coach, offering,
            f"Done editing **{offering.title}** ({status}). Your changes are saved.",
            interaction.message)
    await show(interaction, rendered)


async def _open(press: Press) -> None:
    """Resume a draft (from the prompt `/offering create` shows when drafts exist)."""
    interaction = press.interaction
    upload = pending_upload(interaction.message)
    image = None
    if upload is not None:
        await interaction.response.defer()
        image = await read_image(upload)
    async with _bot(interaction).services.uow() as uow:
        coach = await current_coach(uow, interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        step = max(1, offering.draft_step)
        if image is not None:
            await service.set_uploaded_thumbnail(uow, offering, image)
            step = 1
        rendered = await render_step(uow, coach, offering, step, interaction.message)
        await uow.commit()
    await show(interaction, rendered)


async def _new(press: Press) -> None:
    await press.interaction.response.send_modal(LookModal(NEW))


async def _delete(press: Press) -> None:
    """Confirmed `/offering delete`."""
    interaction = press.interaction
    now = _bot(interaction).services.clock()
    async with _bot(interaction).services.uow(immediate=True) as uow:
        coach = await current_coach(uow, interaction)
        offering = await service.load_owned(uow, coach, press.offering_id)
        title = offering.title
        await service.delete_offering(uow, offering, now)
        await uow.commit()
    await interaction.response.edit_message(
        content=f"**{title}** is deleted. Past sessions keep their history.",
        embeds=[], attachments=[], view=None)


async def _dismiss(press: Press) -> None:
    await press.interaction.response.edit_message(content="Nothing was deleted.", embeds=[],
                                                  attachments=[], view=None)


ACTIONS: dict[str, Callable[[Press], Awaitable[None]]] = {
    "back": lambda p: _move(p, -1),
    "next": lambda p: _move(p, +1),
    "keep": lambda p: _move(p, 0),
    "look": _look,
    "clear_thumbnail": _clear_thumbnail,
    "checkout": _checkout,
    "add_question": _add_question,
    "promotions": lambda p: change_and_show(
        p.interaction, p.offering_id, p.step,
        lambda uow, coach, o: service.toggle_promotion_codes(uow, o)),
    "timing": lambda p: _open_modal(p, TimingModal),
    "limits": lambda p: _open_modal(p, LimitsModal),
    "policy": lambda p: _open_modal(p, PolicyModal),
    "reminders": lambda p: _open_modal(p, RemindersModal),
    "publish": _publish,
    "cancel": _cancel,
    "discard": _discard,
    "done": _done,
    "open": _open,
    "new": _new,
    "delete": _delete,
    "dismiss": _dismiss,
}


async def _session_type(press: Press) -> None:
    value = press.values[0]
    await change_and_show(press.interaction, press.offering_id, press.step,
                          lambda uow, coach, o: service.set_session_type(uow, o, value))


async def _remove_question(press: Press) -> None:
    position = int(press.values[0])
    await change_and_show(press.interaction, press.offering_id, press.step,
                          lambda uow, coach, o: service.remove_question(uow, o, position))


async def _schedule(press: Press) -> None:
    schedule_id = int(press.values[0])
    await change_and_show(press.interaction, press.offering_id, press.step,
                          lambda uow, coach, o: service.choose_schedule(
                              uow, coach, o, schedule_id))


async def _location(press: Press) -> None:
    kind = press.values[0]
    if kind == "fixed":
        await _open_modal(press, MeetingLinkModal)
        return
    await change_and_show(press.interaction, press.offering_id, press.step,
                          lambda uow, coach, o: service.set_location(uow, o, kind))


SELECTS: dict[str, Callable[[Press], Awaitable[None]]] = {
    "session_type": _session_type,
    "remove_question": _remove_question,
    "schedule": _schedule,
    "location": _location,
}


def role_facts(role: discord.Role) -> service.RoleFacts:
    me = role.guild.me
    return service.RoleFacts(
        role_id=role.id, name=role.name, is_everyone=role.is_default(), managed=role.managed,
        bot_can_assign=role.is_assignable() and me is not None
        and me.guild_permissions.manage_roles)


# ---------------------------------------------------------------- the dynamic items


async def check_presser(interaction: discord.Interaction, offering_id: int) -> bool:
    """Only the coach who owns the offering may press its buttons."""
    if offering_id == NEW:
        return True
    try:
        async with _bot(interaction).services.uow() as uow:
            owner = await service.owner_of(uow, offering_id)
        if owner is None:
            raise NotFound("That offering no longer exists. See yours with `/offering list`.")
        if owner != interaction.user.id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
    except Exception as error:  # discord.py drops errors raised here without a reply
        await report_error(interaction, error)
        return False
    return True


async def run(handler: Callable[[Press], Awaitable[None]], press: Press) -> None:
    try:
        await handler(press)
    except Exception as error:  # discord.py only logs errors raised by dynamic items
        await report_error(press.interaction, error)


class WizardButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"offering:(?P<id>\d+):(?P<step>[0-4]):(?P<action>[a-z_]+)"):
    def __init__(self, offering_id: int, step: int, action: str, *, label: str = "…",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 disabled: bool = False, row: int | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=label[:80], style=style, disabled=disabled, row=row,
            custom_id=f"offering:{offering_id}:{step}:{action}"))
        self.offering_id, self.step, self.action = offering_id, step, action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str],
                             ) -> WizardButton:
        return cls(int(match["id"]), int(match["step"]), match["action"],
                   label=item.label or "…")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await check_presser(interaction, self.offering_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = ACTIONS.get(self.action)
        if handler is None:
            await interaction.response.send_message(
                "This button is from an older version of the bot. Run `/offering edit` to "
                "continue.", ephemeral=True)
            return
        await run(handler, Press(interaction, self.offering_id, self.step))


class WizardSelect(discord.ui.DynamicItem[discord.ui.Select[Any]],
                   template=r"offering-select:(?P<id>\d+):(?P<step>[0-4]):(?P<what>[a-z_]+)"):
    def __init__(self, offering_id: int, step: int, what: str, *,
                 options: list[discord.SelectOption] | None = None,
                 placeholder: str | None = None, row: int | None = None) -> None:
        super().__init__(discord.ui.Select(
            custom_id=f"offering-select:{offering_id}:{step}:{what}", options=options or [],
            placeholder=placeholder, row=row))
        self.offering_id, self.step, self.what = offering_id, step, what

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Select[Any], match: re.Match[str],
                             ) -> WizardSelect:
        return cls(int(match["id"]), int(match["step"]), match["what"], options=item.options)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await check_presser(interaction, self.offering_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = SELECTS.get(self.what)
        values = tuple(self.item.values)
        if handler is None or not values:
            await interaction.response.defer()
            return
        await run(handler, Press(interaction, self.offering_id, self.step, values))


class WizardRoleSelect(discord.ui.DynamicItem[discord.ui.RoleSelect[Any]],
                       template=r"offering-role:(?P<id>\d+):(?P<step>[0-4])"):
    def __init__(self, offering_id: int, step: int, *, role_id: int | None = None,
                 row: int | None = None) -> None:
        defaults = [discord.Object(id=role_id, type=discord.Role)] if role_id else []
        super().__init__(discord.ui.RoleSelect(
            custom_id=f"offering-role:{offering_id}:{step}", min_values=0, max_values=1,
            placeholder="Role for booked students (optional)", default_values=defaults,
            row=row))
        self.offering_id, self.step = offering_id, step

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.RoleSelect[Any], match: re.Match[str],
                             ) -> WizardRoleSelect:
        return cls(int(match["id"]), int(match["step"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await check_presser(interaction, self.offering_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        roles = list(self.item.values)
        facts = role_facts(roles[0]) if roles else None

        async def handler(press: Press) -> None:
            await change_and_show(press.interaction, press.offering_id, press.step,
                                  lambda uow, coach, o: service.set_role(uow, o, facts))

        await run(handler, Press(interaction, self.offering_id, self.step))


DYNAMIC_ITEMS = (WizardButton, WizardSelect, WizardRoleSelect)


# ---------------------------------------------------------------- prompts from commands


def resume_prompt(drafts: list[Any], pending: ImageUpload | None) -> Rendered:
    latest = drafts[0]
    step = max(1, latest.draft_step)
    lines = [f"You have an unfinished draft: **{latest.title}** (step {step} of {LAST_STEP} · "
             f"{STEPS[step]}). Continue it, or start a new offering? The draft stays either "
             "way; find it later with `/offering edit`."]
    if len(drafts) > 1:
        others = ", ".join(f"**{d.title}**" for d in drafts[1:6])
        lines.append(f"Other drafts: {others}.")
    view = discord.ui.View(timeout=None)
    view.add_item(WizardButton(latest.id, step, "open", label=f"Continue {latest.title}",
                               style=discord.ButtonStyle.primary))
    view.add_item(WizardButton(NEW, 1, "new", label="Start a new offering"))
    embeds: list[discord.Embed] = []
    files: list[discord.Attachment | discord.File] = []
    if pending is not None:
        name = PENDING_PREFIX + IMAGE_TYPES[pending.content_type]
        files.append(discord.File(io.BytesIO(pending.data), filename=name))
        embed = discord.Embed(description="The picture you attached becomes the thumbnail of "
                                          "the offering you pick.")
        embed.set_thumbnail(url=f"attachment://{name}")
        embeds.append(embed)
    return Rendered("\n".join(lines), embeds, files, view)


def delete_prompt(offering_id: int, title: str) -> Rendered:
    view = discord.ui.View(timeout=None)
    view.add_item(WizardButton(offering_id, 0, "delete", label="Delete it",
                               style=discord.ButtonStyle.danger))
    view.add_item(WizardButton(offering_id, 0, "dismiss", label="Keep it"))
    return Rendered(f"Delete **{title}**? Students will no longer see it; past sessions keep "
                    "their history. This cannot be undone.", [], [], view)
