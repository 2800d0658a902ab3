"""Stripe's exceptions as domain errors whose message tells the user what happens now."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

import stripe

from scheduling.payments import (
    CHECKOUT_UNAVAILABLE,
    REFUND_UNAVAILABLE,
    PaymentError,
    PaymentRejected,
    PaymentsMisconfigured,
    PaymentsUnavailable,
)

log = logging.getLogger(__name__)

CHECKOUT: Final = "checkout"
REFUND: Final = "refund"
OTHER: Final = "other"

_UNAVAILABLE: Final[Mapping[str, str]] = {
    CHECKOUT: CHECKOUT_UNAVAILABLE,
    REFUND: REFUND_UNAVAILABLE,
    OTHER: "Stripe is unreachable right now. Try again in a minute.",
}
_REJECTED: Final[Mapping[str, str]] = {
    CHECKOUT: ("Stripe refused to open the payment page ({detail}). Nothing was charged. A "
               "server admin can check the offering's price and currency with `/offering "
               "edit`."),
    REFUND: "Stripe refused the refund ({detail}).",
    OTHER: "Stripe refused the request ({detail}).",
}
_MISCONFIGURED: Final = ("Stripe rejected the bot's payment setup ({detail}). Nothing was "
                         "charged. The bot's host must check STRIPE_SECRET_KEY (and the "
                         "coach's payout account, if one is linked).")
# Codes whose own wording is clearer than Stripe's message.
_KNOWN_CODES: Final[Mapping[str, str]] = {
    "amount_too_small": "the total is below the smallest amount Stripe accepts",
    "amount_too_large": "the total is above the largest amount Stripe accepts",
    "charge_already_refunded": "the payment was refunded in full already",
    "idempotency_error": "a request with the same key but different details was made before",
}


def translate(error: stripe.StripeError, operation: str = OTHER) -> PaymentError:
    """The domain error for a Stripe exception raised while doing `operation`."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return PaymentsUnavailable(_UNAVAILABLE[operation])
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        log.error("Stripe refused the credentials: %s", error.user_message or error)
        return PaymentsMisconfigured(_MISCONFIGURED.format(detail=_detail(error)))
    if isinstance(error, stripe.IdempotencyError):
        log.error("Stripe idempotency conflict: %s", error.user_message or error)
        return PaymentRejected(_REJECTED[operation].format(
            detail=_KNOWN_CODES["idempotency_error"]), "idempotency_error")
    if isinstance(error, stripe.InvalidRequestError | stripe.CardError):
        log.warning("Stripe refused a %s request: %s (code %s, param %s)", operation,
                    error.user_message or error, error.code, getattr(error, "param", None))
        return PaymentRejected(_REJECTED[operation].format(detail=_detail(error)), error.code)
    if isinstance(error, stripe.APIError) and (error.http_status or 500) >= 500:
        return PaymentsUnavailable(_UNAVAILABLE[operation])
    log.warning("unexpected Stripe error during %s: %r", operation, error)
    return PaymentRejected(_REJECTED[operation].format(detail=_detail(error)), error.code)


def _detail(error: stripe.StripeError) -> str:
    if error.code and error.code in _KNOWN_CODES:
        return _KNOWN_CODES[error.code]
    text = (error.user_message or str(error) or type(error).__name__).strip()
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"
