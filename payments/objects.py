"""Stripe objects (as plain dicts) reduced to the states the domain reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from scheduling.payments import ChargeState, CheckoutState, PaymentEvent, RefundState


def _id(value: Any) -> str | None:
    """An id field that may also come expanded as an object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


# Ids and amounts fit a signed 64-bit column; anything else is not a value Stripe sends.
_INT_LIMIT = 2**63


def _int(value: Any) -> int | None:
    if isinstance(value, bool | float):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -_INT_LIMIT < number < _INT_LIMIT else None


def _time(value: Any) -> datetime | None:
    seconds = _int(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _metadata(data: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = data.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def booking_id_of(data: Mapping[str, Any]) -> int | None:
    """The booking a session belongs to: `client_reference_id`, else its metadata."""
    for candidate in (data.get("client_reference_id"), _metadata(data).get("booking_id")):
        value = _int(candidate) if isinstance(candidate, str | int) else None
        if value is not None and value > 0:
            return value
    return None


def purchase_id_of(data: Mapping[str, Any]) -> int | None:
    """The package purchase a session belongs to (metadata `package_purchase_id`)."""
    candidate = _metadata(data).get("package_purchase_id")
    value = _int(candidate) if isinstance(candidate, str | int) else None
    return value if value is not None and value > 0 else None


def _currency(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) and len(value) == 3 else None


def checkout_state(data: Mapping[str, Any]) -> CheckoutState:
    return CheckoutState(
        session_id=str(data["id"]),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        url=_text(data.get("url")),
        booking_id=booking_id_of(data),
        payment_intent_id=_id(data.get("payment_intent")),
        amount_total=_int(data.get("amount_total")),
        currency=_currency(data.get("currency")),
        expires_at=_time(data.get("expires_at")),
        purchase_id=purchase_id_of(data),
    )


def refund_state(data: Mapping[str, Any]) -> RefundState:
    return RefundState(
        refund_id=str(data["id"]),
        status=str(data.get("status") or "pending"),
        amount_minor=max(0, _int(data.get("amount")) or 0),
        currency=_currency(data.get("currency")),
        payment_intent_id=_id(data.get("payment_intent")),
        failure_reason=_text(data.get("failure_reason")),
        refund_key=_text(_metadata(data).get("refund_key")),
    )


def charge_state(data: Mapping[str, Any]) -> ChargeState:
    refunds = data.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, Mapping) else None
    if not isinstance(listed, list):
        listed = []
    return ChargeState(
        payment_intent_id=_id(data.get("payment_intent")),
        amount_minor=max(0, _int(data.get("amount")) or 0),
        amount_refunded_minor=max(0, _int(data.get("amount_refunded")) or 0),
        refunds=tuple(refund_state(r) for r in listed
                      if isinstance(r, Mapping) and "id" in r),
    )


def event_from_dict(data: Mapping[str, Any]) -> PaymentEvent:
    """A Stripe event (`stripe.Event.to_dict()`) as the domain's `PaymentEvent`."""
    payload = data.get("data")
    obj = payload.get("object") if isinstance(payload, Mapping) else None
    kind = obj.get("object") if isinstance(obj, Mapping) else None
    event = PaymentEvent(id=str(data["id"]), type=str(data.get("type") or ""))
    if not isinstance(obj, Mapping) or "id" not in obj:
        return event
    if kind == "checkout.session":
        return PaymentEvent(event.id, event.type, checkout=checkout_state(obj))
    if kind == "refund":
        return PaymentEvent(event.id, event.type, refund=refund_state(obj))
    if kind == "charge":
        return PaymentEvent(event.id, event.type, charge=charge_state(obj))
    return event
