"""Every Coachbot table. Importing this package registers them all on ``Base.metadata``."""

from storage.models.base import NAMING_CONVENTION, Base
from storage.models.bookings import (
    EXCLUSION_CONSTRAINT_NAME,
    Booking,
    BookingStatusChange,
    solo_slot_key,
)
from storage.models.calendar_feeds import CalendarFeed
from storage.models.coaches import AvailabilityWindow, Coach, DateOverride, Schedule
from storage.models.guilds import AuditEntry, CoachGrant, GuildSettings
from storage.models.lifecycle import SessionTask
from storage.models.offerings import Offering, OfferingAddon, OfferingQuestion
from storage.models.packages import CreditUse, Package, PackagePurchase
from storage.models.payments import Payment, ProcessedWebhookEvent, Refund
from storage.models.preferences import MemberPreferences
from storage.models.referrals import ReferralCode
from storage.models.session_content import Material, Rating
from storage.models.side_effects import ProvisioningStep, Reminder, RoleGrant
from storage.models.waitlist import WaitlistEntry

__all__ = [
    "EXCLUSION_CONSTRAINT_NAME",
    "NAMING_CONVENTION",
    "AuditEntry",
    "AvailabilityWindow",
    "Base",
    "Booking",
    "BookingStatusChange",
    "CalendarFeed",
    "Coach",
    "CoachGrant",
    "CreditUse",
    "DateOverride",
    "GuildSettings",
    "Material",
    "MemberPreferences",
    "Offering",
    "OfferingAddon",
    "OfferingQuestion",
    "Package",
    "PackagePurchase",
    "Payment",
    "ProcessedWebhookEvent",
    "ProvisioningStep",
    "Rating",
    "ReferralCode",
    "Refund",
    "Reminder",
    "RoleGrant",
    "Schedule",
    "SessionTask",
    "WaitlistEntry",
    "solo_slot_key",
]
