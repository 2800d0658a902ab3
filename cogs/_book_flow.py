"""The `/book` flow, one step after the other in one ephemeral message:

coach (select; skipped when given or alone) -> offering (select; skipped when given or when
the coach has one) -> day (the next days with free times) -> time (select, listed as Discord
timestamps) -> the offering's questions (modal; skipped when none) -> summary.

The summary offers "repeat weekly" (up to 12 weeks, `scheduling/book_choices.py`), and then
Confirm (free), Pay now (paid, with Stripe: the time is held while the student pays) and/or
Use credits (the student's package credits). A `referral` code given to `/book` is checked
first and kept on the booking. Eligibility is checked before anything is shown and again at
the end. Booking defers, books atomically, provisions the Discord side and answers with a
follow-up; when someone else took the time meanwhile it offers the nearest free times instead,
and for a series the weeks that are still free.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.confirmations import booking_confirmed
from bot.errors import send_ephemeral
from bot.session_card import join_link
from bot.waitlist import AbandonHoldButton
from cogs._book_items import AddonsSelect, RepeatSelect
from cogs._book_views import (
    FlowButton,
    FlowSelect,
    FlowState,
    FlowView,
    QuestionsModal,
    alternatives_embed,
    select_options,
    slots_embed,
    student_facts,
    summary_embed,
)
from scheduling import book_choices as choices
from scheduling import book_flow as service
from scheduling.book_flow import SLOTS_PER_PAGE, OfferingInfo, Option
from scheduling.booking import TimesUnavailable
from scheduling.booking_rules import OpenSlot
from scheduling.credits import credit_balance
from scheduling.errors import NotConfigured, NotFound, SlotTaken
from scheduling.provisioning import ProvisioningOutcome, timestamp
from scheduling.referrals import resolve_referral
from scheduling.series import check_weeks

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

NO_COACHES: Final = ("Nobody on this server has anything to book yet. Once a coach publishes "
                     "an offering, it shows up in `/book` and `/coaches`.")
NO_OFFERINGS: Final = "{name} has nothing to book right now. Pick another coach with `/book`."
CANCELLED: Final = "Booking cancelled: nothing was booked. Run `/book` to start again."
BUSY: Final = "Your booking is already being made; wait a moment."
MAX_OPTIONS: Final = 25  # a select holds 25 options

Screen = dict[str, Any]


class BookFlow:
    """One student's booking, from `/book` (or a Book button) to Confirm."""

    def __init__(self, bot: CoachBot, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # /book is guild-only
        self.bot = bot
        self.state = FlowState(interaction.guild_id, interaction.user.id)
        self.view = FlowView(bot, interaction.user.id, bot.services.clock())
        self.addon_ids: tuple[int, ...] = ()  # add-ons picked in the summary (paid offerings)

    @property
    def now(self) -> datetime:
        return self.bot.services.clock()

    @property
    def info(self) -> OfferingInfo:
        if self.state.offering is None:
            raise NotFound("Pick an offering first. Run `/book` again.")
        return self.state.offering

    @property
    def zone(self) -> str:
        return self.state.zone.name if self.state.zone else self.info.coach_zone

    # ------------------------------------------------------------ start

    @classmethod
    async def start(cls, bot: CoachBot, interaction: discord.Interaction, *,
                    coach: str | None = None, offering: str | None = None,
                    timezone: str | None = None, referral: str | None = None) -> None:
        await cls(bot, interaction)._begin(interaction, coach, offering, timezone, referral)

    async def _begin(self, interaction: discord.Interaction, coach_text: str | None,
                     offering_text: str | None, timezone: str | None,
                     referral: str | None = None) -> None:
        given = service.check_timezone(timezone)
        facts = student_facts(interaction)
        state, now = self.state, self.now
        async with self.bot.services.uow() as uow:  # read only
            await service.check_eligible(uow, facts, guild_id=state.guild_id, now=now)
            if referral is not None and referral.strip():
                state.referral = await resolve_referral(
                    uow, guild_id=state.guild_id, code=referral, student_id=facts.user_id)
            coach = (await service.find_coach(uow, state.guild_id, coach_text)
                     if coach_text and coach_text.strip() else None)
            chosen = (await service.find_offering(uow, state.guild_id, offering_text, coach)
                      if offering_text and offering_text.strip() else None)
            offerings: list[Any] = []
            coaches: list[Option] = []
            if chosen is None and coach is None:
                coaches = await service.coach_options(uow, state.guild_id)
                if not coaches:
                    raise NotFound(NO_COACHES)
                if len(coaches) == 1:
                    coach = await service.find_coach(uow, state.guild_id, coaches[0].value)
            if chosen is None and coach is not None:
                await service.check_eligible(uow, facts, guild_id=state.guild_id,
                                             coach_user_id=coach.user_id, now=now)
                offerings = await service.published_offerings(uow, coach.id)
                if not offerings:
                    raise NotFound(NO_OFFERINGS.format(name=coach.display_name))
                if len(offerings) == 1:
                    chosen = offerings[0]
            if chosen is not None:
                await self._choose_offering(uow, facts, chosen.id, given)
        if given is not None:  # only once every check passed; its own short write
            async with self.bot.services.uow(immediate=True) as uow:
                await service.remember_timezone(uow, facts.user_id, given)
                await uow.commit()
        if chosen is not None:
            async with self.bot.services.uow() as uow:  # read only
                screen = await self._days_screen(uow)
        elif coach is not None:
            state.coach_select = False
            screen = self._offerings_screen(coach.id, coach.display_name, offerings)
        else:
            state.coach_select = True
            screen = self._coaches_screen(coaches)
        await interaction.response.send_message(ephemeral=True, **screen)

    async def _choose_offering(self, uow: Any, facts: Any, offering_id: int,
                               given: str | None = None) -> None:
        info = await service.offering_info(uow, offering_id, self.state.guild_id)
        await service.check_eligible(uow, facts, guild_id=self.state.guild_id,
                                     coach_user_id=info.coach_user_id,
                                     offering_id=info.offering_id, now=self.now)
        self.state.offering = info
        self.state.zone = await service.shown_zone(uow, facts.user_id, info.coach_zone, given)
        balance = await credit_balance(uow, guild_id=self.state.guild_id,
                                       student_id=facts.user_id, offering_id=info.offering_id,
                                       now=self.now)
        self.state.credits_left = balance.remaining
        self.state.weeks = 1
        self.state.day = None
        self.state.start = None
        self.state.answers = ()

    # ------------------------------------------------------------ screens

    def _buttons(self, *, back: bool) -> list[discord.ui.Item[Any]]:
        items: list[discord.ui.Item[Any]] = []
        if back:
            items.append(FlowButton("book:back", "Back", on_press=self.on_back))
        items.append(FlowButton("book:cancel", "Cancel", on_press=self.on_cancel,
                                style=discord.ButtonStyle.danger))
        return items

    def _coaches_screen(self, coaches: list[Option]) -> Screen:
        self.state.screen = "coaches"
        content = "Who would you like to book a session with?"
        if len(coaches) > MAX_OPTIONS:
            content += (f"\nShowing {MAX_OPTIONS} of {len(coaches)} coaches: to find another, "
                        "run `/book` and type their name in the `coach` option.")
        select = FlowSelect("book:coach", select_options(coaches), placeholder="Pick a coach",
                            on_pick=self.on_coach)
        return {"content": content, "embeds": [],
                "view": self.view.show(select, *self._buttons(back=False))}

    def _offerings_screen(self, coach_id: int, coach_name: str, offerings: list[Any]) -> Screen:
        self.state.screen = "offerings"
        self.state.offering_coach_id = coach_id
        options = [service.offering_option(o) for o in offerings]
        select = FlowSelect("book:offering", select_options(options),
                            placeholder="Pick an offering", on_pick=self.on_offering)
        content = f"What would you like to book with **{coach_name}**?"
        return {"content": content, "embeds": [],
                "view": self.view.show(select, *self._buttons(back=self.state.coach_select))}

    def _header(self) -> str:
        info = self.info
        return (f"**{info.title}** with **{info.coach_name}** · {info.duration_text} · "
                f"{info.price_text}")

    async def _days_screen(self, uow: Any, note: str | None = None) -> Screen:
        state, info = self.state, self.info
        state.screen = "days"
        days = await service.open_days(uow, info.offering_id, state.guild_id, zone=self.zone,
                                       now=self.now)
        back = state.offering_coach_id is not None or state.coach_select
        lines = [self._header()]
        if note:
            lines.append(note)
        if not days:
            lines.append(f"There are no free times in the next {info.booking_window_days} days. "
                         "Check back later, or pick another offering.")
            return {"content": "\n".join(lines), "embeds": [],
                    "view": self.view.show(*self._buttons(back=back))}
        assert state.zone is not None
        lines += [service.zone_note(state.zone, self.now), "Pick a day:"]
        select = FlowSelect("book:day", [discord.SelectOption(label=d.label,
                                                              value=d.day.isoformat())
                                         for d in days], placeholder="Pick a day",
                            on_pick=self.on_day)
        return {"content": "\n".join(lines), "embeds": [],
                "view": self.view.show(select, *self._buttons(back=back))}

    async def _slots_screen(self, uow: Any, note: str | None = None) -> Screen:
        state, info = self.state, self.info
        assert state.day is not None
        slots = await service.slots_of_day(uow, info.offering_id, state.guild_id, state.day,
                                           zone=self.zone, now=self.now)
        if not slots:
            return await self._days_screen(uow, note="No free times are left on that day. "
                                                     "Pick another one.")
        state.screen = "slots"
        pages = -(-len(slots) // SLOTS_PER_PAGE)
        state.slot_page = max(0, min(state.slot_page, pages - 1))
        shown = slots[state.slot_page * SLOTS_PER_PAGE:(state.slot_page + 1) * SLOTS_PER_PAGE]
        day = f"{state.day:%A} {state.day.day} {state.day:%B}"
        lines = [self._header()]
        if note:
            lines.append(note)
        lines.append(f"Pick a time on **{day}**. The menu gives the times in {self.zone}; "
                     "the list shows each one in your own device's time.")
        options = [discord.SelectOption(
            label=service.time_label(s.start, self.zone), value=service.slot_value(s),
            description=service.seats_text(s.seats_left) if info.is_group else None)
            for s in shown]
        items: list[discord.ui.Item[Any]] = [
            FlowSelect("book:slot", options, placeholder="Pick a time", on_pick=self.on_slot)]
        if pages > 1:
            items.append(FlowButton("book:earlier", "Earlier times", on_press=self.on_earlier,
                                    row=3, disabled=state.slot_page == 0))
            items.append(FlowButton("book:later", "Later times", on_press=self.on_later, row=3,
                                    disabled=state.slot_page >= pages - 1))
        embed = slots_embed(f"Free times on {day}", shown, group=info.is_group)
        return {"content": "\n".join(lines), "embeds": [embed],
                "view": self.view.show(*items, *self._buttons(back=True))}

    def _summary_screen(self) -> Screen:
        state, info = self.state, self.info
        assert state.start is not None
        state.screen = "summary"
        summary = service.summary(info, state.start, state.answers, state.seats_left)
        items: list[discord.ui.Item[Any]] = [RepeatSelect(state.weeks, on_pick=self.on_repeat)]
        count = state.weeks
        credits = not info.is_free and 0 < count <= state.credits_left
        if info.is_free:
            content = "Check the details and press **Confirm** to book."
            items.append(FlowButton("book:confirm", "Confirm", on_press=self.on_confirm,
                                    style=discord.ButtonStyle.success))
        elif self.bot.payments.configured:
            content = ("Check the details and press **Pay now**: I hold the time while you "
                       "pay on Stripe's checkout page.")
            items.append(FlowButton("book:pay", "Pay now", on_press=self.on_pay,
                                    style=discord.ButtonStyle.success))
            if info.addons:
                items.append(AddonsSelect(info, self.addon_ids, on_pick=self.on_addons))
                line = service.addons_line(info, self.addon_ids)
                content += "\n" + (line or "Pick add-ons from the menu if you want any.")
        elif credits:
            content = "Check the details and press **Use credits** to book with your package."
        else:
            content = service.payments_not_ready(info)
        if credits:
            items.append(FlowButton("book:credit", choices.credits_label(
                count, state.credits_left), on_press=self.on_credit,
                style=discord.ButtonStyle.primary))
        elif state.credits_left and not info.is_free:
            content += (f"\nYou have {state.credits_left} package credit"
                        f"{'s' if state.credits_left != 1 else ''} for this offering: "
                        "not enough for every week.")
        if count > 1:
            content = choices.series_text(info, self._starts()) + "\n" + content
        if info.questions:
            items.append(FlowButton("book:answers", "Change answers", on_press=self.on_answers))
        return {"content": content, "embeds": [summary_embed(summary)],
                "view": self.view.show(*items, *self._buttons(back=True))}

    def _taken_screen(self, message: str) -> Screen:
        state, info = self.state, self.info
        state.screen = "taken"
        items: list[discord.ui.Item[Any]] = []
        if state.alternatives:
            options = [discord.SelectOption(
                label=service.when_label(s.start, self.zone), value=service.slot_value(s),
                description=service.seats_text(s.seats_left) if info.is_group else None)
                for s in state.alternatives]
            items.append(FlowSelect("book:alternative", options, placeholder="Pick another time",
                                    on_pick=self.on_alternative))
        else:
            message += "\nNo other free times are close to it: press **Back** to pick a day."
        embeds = ([alternatives_embed(state.alternatives, group=info.is_group)]
                  if state.alternatives else [])
        return {"content": message, "embeds": embeds,
                "view": self.view.show(*items, *self._buttons(back=True))}

    # ------------------------------------------------------------ handlers

    async def on_coach(self, interaction: discord.Interaction, value: str) -> None:
        facts = student_facts(interaction)
        async with self.bot.services.uow() as uow:
            coach = await service.find_coach(uow, self.state.guild_id, value)
            await service.check_eligible(uow, facts, guild_id=self.state.guild_id,
                                         coach_user_id=coach.user_id, now=self.now)
            offerings = await service.published_offerings(uow, coach.id)
            if not offerings:
                raise NotFound(NO_OFFERINGS.format(name=coach.display_name))
            if len(offerings) > 1:
                screen = self._offerings_screen(coach.id, coach.display_name, offerings)
            else:
                self.state.offering_coach_id = None
                await self._choose_offering(uow, facts, offerings[0].id)
                screen = await self._days_screen(uow)
        await interaction.response.edit_message(**screen)

    async def on_offering(self, interaction: discord.Interaction, value: str) -> None:
        facts = student_facts(interaction)
        async with self.bot.services.uow() as uow:
            offering_id = int(value) if value.isdecimal() else 0
            await self._choose_offering(uow, facts, offering_id)
            screen = await self._days_screen(uow)
        await interaction.response.edit_message(**screen)

    async def on_day(self, interaction: discord.Interaction, value: str) -> None:
        self.state.day = service.parse_day(value)
        self.state.slot_page = 0
        async with self.bot.services.uow() as uow:
            screen = await self._slots_screen(uow)
        await interaction.response.edit_message(**screen)

    async def _page(self, interaction: discord.Interaction, step: int) -> None:
        self.state.slot_page += step
        async with self.bot.services.uow() as uow:
            screen = await self._slots_screen(uow)
        await interaction.response.edit_message(**screen)

    async def on_earlier(self, interaction: discord.Interaction) -> None:
        await self._page(interaction, -1)

    async def on_later(self, interaction: discord.Interaction) -> None:
        await self._page(interaction, 1)

    async def on_slot(self, interaction: discord.Interaction, value: str) -> None:
        state, info = self.state, self.info
        start = service.parse_start(value)
        assert state.day is not None
        async with self.bot.services.uow() as uow:
            slots = await service.slots_of_day(uow, info.offering_id, state.guild_id, state.day,
                                               zone=self.zone, now=self.now)
            slot = next((s for s in slots if s.start == start), None)
            if slot is None:
                screen = await self._slots_screen(uow, note="That time was just taken. "
                                                            "Pick another one.")
                await interaction.response.edit_message(**screen)
                return
        state.start, state.seats_left = slot.start, slot.seats_left
        if info.questions:
            await interaction.response.send_modal(
                QuestionsModal(self.view, info, state.answers, self.on_submitted))
            return
        await interaction.response.edit_message(**self._summary_screen())

    async def on_answers(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(
            QuestionsModal(self.view, self.info, self.state.answers, self.on_submitted))

    async def on_submitted(self, interaction: discord.Interaction, typed: list[str]) -> None:
        self.state.answers = service.clean_answers(self.info, typed)
        await interaction.response.edit_message(**self._summary_screen())

    async def on_alternative(self, interaction: discord.Interaction, value: str) -> None:
        state = self.state
        start = service.parse_start(value)
        slot = next((s for s in state.alternatives if s.start == start), None)
        if slot is None:
            raise NotFound("Pick one of the times in the list.")
        state.start, state.seats_left = slot.start, slot.seats_left
        state.day = service.local_day(slot.start, self.zone)
        await interaction.response.edit_message(**self._summary_screen())

    async def on_back(self, interaction: discord.Interaction) -> None:
        state = self.state
        async with self.bot.services.uow() as uow:
            if state.screen in ("summary",):
                screen = await self._slots_screen(uow)
            elif state.screen in ("slots", "taken"):
                screen = await self._days_screen(uow)
            elif state.screen == "days" and state.offering_coach_id is not None:
                coach = await service.find_coach(uow, state.guild_id,
                                                 str(state.offering_coach_id))
                offerings = await service.published_offerings(uow, coach.id)
                screen = self._offerings_screen(coach.id, coach.display_name, offerings)
            else:
                state.coach_select = True
                state.offering_coach_id = None
                coaches = await service.coach_options(uow, state.guild_id)
                screen = self._coaches_screen(coaches)
        await interaction.response.edit_message(**screen)

    async def on_cancel(self, interaction: discord.Interaction) -> None:
        self.view.stop()
        await interaction.response.edit_message(content=CANCELLED, embeds=[], view=None)

    def _starts(self) -> list[datetime]:
        state = self.state
        assert state.start is not None
        if state.only_starts is not None:
            return list(state.only_starts)
        return choices.occurrences(self.info, state.start, state.weeks)

    async def on_repeat(self, interaction: discord.Interaction, values: list[str]) -> None:
        self.state.weeks = check_weeks(int(values[0]) if values[0].isdecimal() else 0)
        self.state.only_starts = None
        await interaction.response.edit_message(**self._summary_screen())

    async def on_confirm(self, interaction: discord.Interaction) -> None:
        await self._book(interaction, use_credits=False)

    async def on_credit(self, interaction: discord.Interaction) -> None:
        await self._book(interaction, use_credits=True)

    async def on_free_weeks(self, interaction: discord.Interaction) -> None:
        """Book only the weeks of the series that are still free."""
        if self.state.last_action == "pay":
            await self.on_pay(interaction)
        else:
            await self._book(interaction, use_credits=self.state.last_action == "credit")

    def _unavailable_screen(self, gone: TimesUnavailable) -> Screen:
        state = self.state
        state.screen = "taken"
        state.only_starts = gone.free or None
        items: list[discord.ui.Item[Any]] = []
        lines = [gone.user_message]
        if gone.free:
            lines.append(f"Still free ({len(gone.free)} of {len(gone.free) + len(gone.unavailable)}"
                         " weeks):")
            lines += [f"- {timestamp(s, 'F')}" for s in gone.free]
            items.append(FlowButton("book:free-weeks", f"Book the {len(gone.free)} free weeks"
                                    if len(gone.free) > 1 else "Book the free week",
                                    on_press=self.on_free_weeks,
                                    style=discord.ButtonStyle.success))
        else:
            lines.append("None of those weeks is free: press **Back** to pick another time.")
        return {"content": "\n".join(lines), "embeds": [],
                "view": self.view.show(*items, *self._buttons(back=True))}

    async def _book(self, interaction: discord.Interaction, *, use_credits: bool) -> None:
        """Confirm at once: a free offering, or paying with package credits."""
        state, info = self.state, self.info
        if state.confirming:
            await send_ephemeral(interaction, BUSY)
            return
        if not info.is_free and not use_credits:
            raise NotConfigured(service.payments_not_ready(info))
        state.last_action = "credit" if use_credits else "confirm"
        starts = self._starts()
        state.confirming = True
        try:
            await interaction.response.defer()
            try:
                booked = await choices.confirm_times(
                    self.bot.services.uow, student_facts(interaction), guild_id=state.guild_id,
                    offering_id=info.offering_id, starts=starts, answers=state.answers,
                    now=self.now,
                    use_credits=use_credits, referral=state.referral)
            except SlotTaken as taken:
                state.alternatives = [s for s in taken.alternatives if isinstance(s, OpenSlot)]
                await interaction.edit_original_response(**self._taken_screen(
                    taken.user_message))
                return
            except TimesUnavailable as gone:
                await interaction.edit_original_response(**self._unavailable_screen(gone))
                return
            outcomes = [await self._provision(b.id) for b in booked]
        finally:
            state.confirming = False
        self.view.stop()
        if len(booked) > 1:
            await interaction.edit_original_response(
                content=choices.series_booked_message(info, booked, credits=use_credits),
                embeds=[], view=None)
            return
        booking, outcome = booked[0], outcomes[0]
        summary = service.summary(info, booking.start_at, state.answers)  # seats: moot now
        await interaction.edit_original_response(
            content="Booked.", embeds=[summary_embed(summary, title="Booked")], view=None)
        link = (join_link(state.guild_id, outcome.location.join_url,
                          outcome.location.voice_channel_id) if outcome else None)
        done = service.booked_message(info, booking.start_at, outcome)
        if use_credits:
            done += "\nOne package credit used."
        if link:
            join = discord.ui.View(timeout=None)
            join.add_item(discord.ui.Button(label="Join", style=discord.ButtonStyle.link,
                                            url=link))
            await interaction.followup.send(done, ephemeral=True, view=join)
        else:
            await interaction.followup.send(done, ephemeral=True)

    @property
    def picked(self) -> list[int]:
        """The picked add-ons the offering still offers (checkout refuses unknown ones)."""
        return [a.addon_id for a in service.chosen_addons(self.info, self.addon_ids)]

    async def on_addons(self, interaction: discord.Interaction, values: list[str]) -> None:
        self.addon_ids = tuple(int(v) for v in values)
        await interaction.response.edit_message(**self._summary_screen())

    async def on_pay(self, interaction: discord.Interaction) -> None:
        state, info = self.state, self.info
        if state.confirming:
            await send_ephemeral(interaction, BUSY)
            return
        assert state.start is not None
        state.last_action = "pay"
        starts = self._starts()
        request = choices.with_referral(await service.paid_request(
            self.bot.services.uow, student_facts(interaction), guild_id=state.guild_id,
            offering_id=info.offering_id, start=starts[0], answers=state.answers,
            now=self.now), state.referral)
        state.confirming = True
        try:
            await interaction.response.defer()  # Stripe is on the other end
            try:
                if len(starts) > 1:
                    started = await self.bot.payments.book_series_and_checkout(
                        request, starts, addon_ids=self.picked)
                else:
                    started = await self.bot.payments.book_and_checkout(
                        request, addon_ids=self.picked)
            except SlotTaken as taken:
                state.alternatives = [s for s in taken.alternatives if isinstance(s, OpenSlot)]
                await interaction.edit_original_response(**self._taken_screen(
                    taken.user_message))
                return
            except TimesUnavailable as gone:
                await interaction.edit_original_response(**self._unavailable_screen(gone))
                return
        finally:
            state.confirming = False
        self.view.stop()
        pay = discord.ui.View(timeout=None)
        pay.add_item(discord.ui.Button(label=f"Pay {started.amount}", url=started.checkout_url,
                                       style=discord.ButtonStyle.link))
        pay.add_item(AbandonHoldButton(started.booking_id))  # give the time back
        summary = service.summary(info, started.start_at, state.answers)
        content = service.pay_message(info.title, str(started.amount), started.expires_at)
        if len(starts) > 1:
            content = choices.series_text(info, starts) + "\n" + content
        await interaction.edit_original_response(
            content=content,
            embeds=[summary_embed(summary, title="Held for you")], view=pay)

    async def _provision(self, booking_id: int) -> ProvisioningOutcome | None:
        """The Discord side of the booking. It reports its own failures and is retried by the
        retry loop; should it still raise, the booking stands and the student is told so."""
        try:
            return await booking_confirmed(self.bot, booking_id)
        except Exception:
            log.exception("provisioning booking %s raised; the retry loop will finish it",
                          booking_id)
            return None
