"""The closed sets of values the tables accept (enforced by CHECK constraints) and defaults."""

from __future__ import annotations

from typing import Any, Final

from scheduling.policy import DEFAULT_POLICY

BOOKING_STATUSES: Final = (
    "pending_payment",
    "confirmed",
    "in_progress",
    "completed",
    "cancelled",
    "expired",
    "no_show_student",
    "no_show_coach",
)
# Bookings that occupy their coach's time (the exclusion constraint and overlap checks use these).
ACTIVE_BOOKING_STATUSES: Final = ("pending_payment", "confirmed", "in_progress")

OFFERING_STATUSES: Final = ("draft", "published", "unpublished", "deleted")
SESSION_TYPES: Final = ("video", "audio", "phone")
LOCATION_KINDS: Final = ("discord", "generated", "fixed")
QUESTION_STYLES: Final = ("short", "paragraph")
COACH_GRANT_KINDS: Final = ("member", "role")
REMINDER_KINDS: Final = ("reminder", "start")
REMINDER_STATUSES: Final = ("pending", "sent", "skipped", "failed")
PROVISIONING_STATUSES: Final = ("pending", "done", "failed")
MATERIAL_KINDS: Final = ("notes", "outline", "homework", "manuscript", "recording", "other")
PAYMENT_STATUSES: Final = ("pending", "paid", "failed", "expired", "refunded", "partially_refunded")
REFUND_STATUSES: Final = ("pending", "requires_action", "succeeded", "failed", "canceled")
# package_purchases.status: unpaid checkout, paid (credits usable until expires_at), failed or
# abandoned checkout, refunded through Stripe.
PURCHASE_STATUSES: Final = ("pending_payment", "active", "failed", "expired", "refunded")

DEFAULT_CURRENCY: Final = "USD"
DEFAULT_REMINDER_OFFSETS_MINUTES: Final = (1440, 60)

def default_policy() -> dict[str, Any]:
    """The default server policy as stored (see scheduling.policy.Policy.to_dict)."""
    return DEFAULT_POLICY.to_dict()


def default_reminder_offsets() -> list[int]:
    """A fresh list of the default reminder offsets, in minutes before the start."""
    return list(DEFAULT_REMINDER_OFFSETS_MINUTES)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values`` (fixed identifiers only)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"
