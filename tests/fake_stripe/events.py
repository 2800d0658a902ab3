"""Stripe events, signed the way Stripe signs webhook deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

API_VERSION = "2026-10-28.endive"


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def build_event(event_type: str, obj: dict[str, Any], *, created: int | None = None,
                event_id: str | None = None,
                previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2).encode("utf-8")


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header: `t=<unix>,v1=<HMAC-SHA256(secret, "t.body")>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signed_delivery(event: dict[str, Any], secret: str, *, timestamp: int | None = None
                    ) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook delivery of `event`."""
    body = encode(event)
    return body, {"Content-Type": "application/json; charset=utf-8",
                  "Stripe-Signature": signature(body, secret, timestamp),
                  "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
