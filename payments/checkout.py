"""Checkout Session parameters for a booking, exactly as sent to Stripe."""

from __future__ import annotations

from typing import Any

from scheduling.payments import CheckoutRequest


def checkout_params(request: CheckoutRequest) -> dict[str, Any]:
    """`checkout.sessions.create` parameters: one priced line item per thing bought, the
    booking id in `client_reference_id` and in the metadata of the session and of its payment
    intent, `expires_at` at the hold's end, and a destination charge when the coach has a
    connected account."""
    currency = request.currency.lower()
    line_items = []
    for item in request.line_items:
        product: dict[str, Any] = {"name": item.name}
        if item.description:
            product["description"] = item.description
        line_items.append({"quantity": item.quantity,
                           "price_data": {"currency": currency, "unit_amount": item.amount_minor,
                                          "product_data": product}})
    metadata = dict(request.metadata)
    payment_intent: dict[str, Any] = {"metadata": dict(metadata)}
    if request.description:
        payment_intent["description"] = request.description
    if request.destination_account:
        payment_intent["transfer_data"] = {"destination": request.destination_account}
        if request.application_fee_minor > 0:
            payment_intent["application_fee_amount"] = request.application_fee_minor
    params: dict[str, Any] = {
        "mode": "payment",
        "submit_type": "book",
        "client_reference_id": request.client_reference,
        "line_items": line_items,
        "expires_at": int(request.expires_at.timestamp()),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "metadata": metadata,
        "payment_intent_data": payment_intent,
    }
    if request.allow_promotion_codes:
        params["allow_promotion_codes"] = True
    return params
