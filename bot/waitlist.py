"""The Discord side of freed times: the Pay now message's **Cancel** (abandon a held booking)
and the `slot_freed` hook that hands a freed time to the waitlist.

`AbandonHoldButton` (custom_id `hold:abandon:{booking_id}`) is a `DynamicItem`: it works after a
restart; only the booking's student may press it (re-checked by the service).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.errors import report_error
from scheduling import waitlist as service
from scheduling.booking import BookingRequest, book
from scheduling.errors import SlotTaken

if TYPE_CHECKING:
    from bot.client import CoachBot

log = logging.getLogger(__name__)

ABANDON_ID: Final = "hold:abandon:{booking_id}"
BOOK_ID: Final = "waitlist:book:{entry_id}:{unix}"
PASS_ID: Final = "waitlist:pass:{entry_id}:{unix}"
MAX_DM_TRIES: Final = 10
FREED_STATUSES: Final = ("cancelled", "expired")


async def slot_freed(bot: CoachBot, coach_id: int, offering_id: int | None,
                     start: datetime) -> None:
    """A time of `coach_id` became free (cancellation, abandoned or expired hold, a passed or
    timed-out offer): offer it by DM to the first waiting student whose window covers it (the
    next one when a DM cannot be delivered). Never raises: the freeing stands whatever
    happens here."""
    try:
        for _ in range(MAX_DM_TRIES):
            offer = await service.offer_freed(bot.services.uow, coach_id, offering_id, start,
                                              now=bot.services.clock())
            if offer is None or await _send_offer(bot, offer):
                return
            await service.drop_offer(bot.services.uow, offer.entry_id)
    except Exception:
        log.exception("offering the freed time %s of coach %s to the waitlist failed", start,
                      coach_id)


async def availability_opened(bot: CoachBot, coach_id: int) -> None:
    """The coach added hours: offer the earliest open time to the first waiting student it
    suits. Never raises: the new hours stand whatever happens here."""
    try:
        found = await service.first_open_for_waiting(bot.services.uow, coach_id,
                                                     now=bot.services.clock())
    except Exception:
        log.exception("looking for waiting students after coach %s added hours failed",
                      coach_id)
        return
    if found is not None:
        offering_id, start = found
        await slot_freed(bot, coach_id, offering_id, start)


def offer_text(offer: service.Offer) -> str:
    when, until = int(offer.start.timestamp()), int(offer.expires_at.timestamp())
    return (f"A time freed up: **{offer.title}** with **{offer.coach_name}** on <t:{when}:F> "
            f"(<t:{when}:R>). It is kept for you until <t:{until}:t> (<t:{until}:R>): press "
            "**Book** to take it, or **Pass** to let the next person on the waitlist have it.")


async def _send_offer(bot: CoachBot, offer: service.Offer) -> bool:
    view = discord.ui.View(timeout=None)
    view.add_item(book_offer_button(offer.entry_id, offer.start))
    view.add_item(pass_offer_button(offer.entry_id, offer.start))
    try:
        user = bot.get_user(offer.student_id) or await bot.fetch_user(offer.student_id)
        await user.send(offer_text(offer), view=view,
                        allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.warning("could not DM waitlist offer %s to user %s: %s", offer.entry_id,
                    offer.student_id, error)
        return False
    return True


async def holds_released(bot: CoachBot, report: Any) -> None:
    """After a payment maintenance pass: the times of holds it released go to the waitlist."""
    for hold in getattr(report, "holds", ()):
        if hold.result != "paid":
            await booking_freed(bot, hold.booking_id)


async def expire_offers(bot: CoachBot) -> int:
    """Offers nobody answered in time end; their times go to the next student."""
    freed = await service.expire_offers(bot.services.uow, now=bot.services.clock())
    for time in freed:
        await slot_freed(bot, time.coach_id, time.offering_id, time.start)
    return len(freed)


async def booking_freed(bot: CoachBot, booking_id: int) -> None:
    """`slot_freed` for the time of a booking that was just cancelled or released."""
    try:
        async with bot.services.uow() as uow:  # read only
            booking = await uow.bookings.get(booking_id)
        if booking is None or booking.status not in FREED_STATUSES:
            return
    except Exception:
        log.exception("reading freed booking %s failed", booking_id)
        return
    await slot_freed(bot, booking.coach_id, booking.offering_id, booking.start_at)


async def abandon(bot: CoachBot, interaction: discord.Interaction, booking_id: int) -> None:
    gateway = bot.payments.gateway if bot.payments.configured else None
    await interaction.response.defer()  # Stripe is on the other end
    gone = await service.abandon_hold(bot.services.uow, gateway, booking_id,
                                      interaction.user.id, now=bot.services.clock())
    await interaction.edit_original_response(content=service.abandoned_text(gone), embeds=[],
                                             view=None)
    await slot_freed(bot, gone.coach_id, gone.offering_id, gone.start_at)


class AbandonHoldButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                        template=r"hold:abandon:(?P<id>\d+)"):
    """**Cancel** next to the Pay link: give the held time back, nothing charged."""

    def __init__(self, booking_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Cancel", style=discord.ButtonStyle.danger, row=1,
            custom_id=ABANDON_ID.format(booking_id=booking_id)))
        self.booking_id = booking_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str],
                             ) -> AbandonHoldButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: CoachBot = interaction.client  # type: ignore[assignment]
        try:
            await abandon(bot, interaction, self.booking_id)
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)


async def book_offer(bot: CoachBot, interaction: discord.Interaction, entry_id: int,
                     start: datetime) -> None:
    """The offer's Book: the normal booking of that time (free: booked and provisioned; paid:
    held with the Pay link). When the time was taken meanwhile the student keeps waiting."""
    from bot.confirmations import booking_confirmed
    from scheduling.book_flow import pay_message

    uow, now = bot.services.uow, bot.services.clock()
    claim = await service.claim_offer(uow, entry_id, interaction.user.id, start, now=now)
    await interaction.response.defer()
    request = BookingRequest(claim.offering_id, interaction.user.id, claim.start)
    try:
        if claim.paid:
            started = await bot.payments.book_and_checkout(request)
        else:
            booking = await book(uow, request, now=now)
    except SlotTaken:
        await service.settle_claim(uow, entry_id, booked=False)
        await interaction.edit_original_response(content=TAKEN, view=None)
        return
    await service.settle_claim(uow, entry_id, booked=True)
    if claim.paid:
        pay = discord.ui.View(timeout=None)
        pay.add_item(discord.ui.Button(label=f"Pay {started.amount}", url=started.checkout_url,
                                       style=discord.ButtonStyle.link))
        pay.add_item(AbandonHoldButton(started.booking_id))
        title = await _title(bot, claim.offering_id)
        await interaction.edit_original_response(
            content=pay_message(title, str(started.amount), started.expires_at), view=pay)
        return
    await interaction.edit_original_response(
        content=f"Booked: <t:{int(claim.start.timestamp())}:F>. Your session details follow.",
        view=None)
    try:
        await booking_confirmed(bot, booking.id)
    except Exception:
        log.exception("provisioning waitlist booking %s raised; the retry loop finishes it",
                      booking.id)


async def _title(bot: CoachBot, offering_id: int) -> str:
    async with bot.services.uow() as uow:
        offering = await uow.offerings.get(offering_id)
    return offering.title if offering else "your session"


async def pass_offer(bot: CoachBot, interaction: discord.Interaction, entry_id: int,
                     start: datetime) -> None:
    freed = await service.pass_offer(bot.services.uow, entry_id, interaction.user.id, start,
                                     now=bot.services.clock())
    await interaction.response.edit_message(content=PASSED, view=None)
    await slot_freed(bot, freed.coach_id, freed.offering_id, freed.start)


TAKEN: Final = ("Sorry, someone booked that time just before you. You stay on the waitlist "
                "and get the next free time.")
PASSED: Final = "Passed: the time goes to the next person. You are off this waitlist."


class _OfferButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"waitlist:(?P<kind>book|pass):(?P<id>\d+):(?P<unix>\d+)"):
    """Book / Pass on a waitlist offer DM (the entry's id and the offered start)."""

    def __init__(self, kind: str, entry_id: int, start: datetime) -> None:
        unix = int(start.timestamp())
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Book" if kind == "book" else "Pass",
            style=discord.ButtonStyle.success if kind == "book"
            else discord.ButtonStyle.secondary,
            custom_id=(BOOK_ID if kind == "book" else PASS_ID).format(entry_id=entry_id,
                                                                       unix=unix))
        super().__init__(button)
        self.kind, self.entry_id, self.start = kind, entry_id, start

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str],
                             ) -> _OfferButton:
        return cls(match["kind"], int(match["id"]),
                   datetime.fromtimestamp(int(match["unix"]), UTC))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: CoachBot = interaction.client  # type: ignore[assignment]
        try:
            if self.kind == "book":
                await book_offer(bot, interaction, self.entry_id, self.start)
            else:
                await pass_offer(bot, interaction, self.entry_id, self.start)
        except Exception as error:  # discord.py only logs errors raised by dynamic items
            await report_error(interaction, error)


def book_offer_button(entry_id: int, start: datetime) -> _OfferButton:
    return _OfferButton("book", entry_id, start)


def pass_offer_button(entry_id: int, start: datetime) -> _OfferButton:
    return _OfferButton("pass", entry_id, start)


DYNAMIC_ITEMS: Final = (AbandonHoldButton, _OfferButton)
