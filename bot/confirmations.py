"""What follows a confirmed booking, whichever way it was confirmed (free `/book`, a payment)."""

from __future__ import annotations

from bot.client import CoachBot
from bot.lifecycle import bookings_changed
from bot.provisioning import ProvisioningOutcome, provision_booking


async def booking_confirmed(bot: CoachBot, booking_id: int) -> ProvisioningOutcome:
    """Wake the scheduler for the booking's reminders and timed work at once (not at the next
    sweep), then give the Discord side: role, channels, session card, DMs."""
    await bookings_changed(bot, [booking_id])
    return await provision_booking(bot, booking_id)
