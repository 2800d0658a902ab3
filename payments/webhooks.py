"""Verifying Stripe webhook deliveries: the signature over the raw body, then the event."""

from __future__ import annotations

import json
from typing import Final

import stripe

from payments.objects import event_from_dict
from scheduling.payments import PaymentEvent

# Stripe's default: a signature older than five minutes is refused (replay protection).
TOLERANCE_SECONDS: Final = stripe.Webhook.DEFAULT_TOLERANCE


class WebhookRejected(Exception):
    """The delivery is not a genuine, recent Stripe event (answer 400, change nothing)."""


def verify_event(payload: bytes, signature: str | None, secret: str, *,
                 tolerance: int = TOLERANCE_SECONDS) -> PaymentEvent:
    """The event in `payload` if `signature` (the `Stripe-Signature` header) is Stripe's HMAC
    of exactly these bytes with `secret`, made less than `tolerance` seconds ago."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(f"signature rejected: {error.user_message or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, AttributeError,
            TypeError) as error:
        # Genuinely signed, but not an event object (the library assumes a JSON object).
        raise WebhookRejected(f"not a Stripe event: {type(error).__name__}") from None
    data = event.to_dict()
    if data.get("object") != "event" or not isinstance(data.get("id"), str):
        raise WebhookRejected("not a Stripe event: no event id")
    try:
        return event_from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise WebhookRejected(f"not a Stripe event: {type(error).__name__}") from None
