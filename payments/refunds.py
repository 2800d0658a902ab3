"""Refund parameters, exactly as sent to Stripe."""

from __future__ import annotations

from typing import Any

from scheduling.payments import RefundRequest


def refund_params(request: RefundRequest) -> dict[str, Any]:
    """`refunds.create` parameters: always an explicit amount (so retries are identical), and
    for destination charges the transfer and the platform fee reversed proportionally."""
    params: dict[str, Any] = {
        "payment_intent": request.payment_intent_id,
        "amount": request.amount_minor,
        "reason": "requested_by_customer",
        "metadata": dict(request.metadata),
    }
    if request.reverse_transfer:
        params["reverse_transfer"] = True
    if request.refund_application_fee:
        params["refund_application_fee"] = True
    return params
