"""Repositories: query and stage changes on an ``AsyncSession``; they flush but never commit
(the unit of work does)."""

from storage.repositories.audit import AuditRepository
from storage.repositories.bookings import BookingRepository
from storage.repositories.coaches import CoachRepository
from storage.repositories.guild_settings import GuildSettingsRepository
from storage.repositories.webhook_events import WebhookEventRepository

__all__ = [
    "AuditRepository",
    "BookingRepository",
    "CoachRepository",
    "GuildSettingsRepository",
    "WebhookEventRepository",
]
