"""Repositories: query and stage changes on an ``AsyncSession``; they flush but never commit
(the unit of work does)."""

from storage.repositories.audit import AuditRepository
from storage.repositories.bookings import BookingRepository
from storage.repositories.coach_grants import CoachGrantRepository
from storage.repositories.coaches import CoachRepository
from storage.repositories.guild_settings import GuildSettingsRepository
from storage.repositories.offerings import OfferingRepository
from storage.repositories.schedules import ScheduleRepository
from storage.repositories.webhook_events import WebhookEventRepository

__all__ = [
    "AuditRepository",
    "BookingRepository",
    "CoachGrantRepository",
    "CoachRepository",
    "GuildSettingsRepository",
    "OfferingRepository",
    "ScheduleRepository",
    "WebhookEventRepository",
]
