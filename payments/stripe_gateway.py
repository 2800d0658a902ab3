"""The payments port over the official `stripe` library (async methods of `StripeClient`).

    gateway = StripeGateway.connect(settings.stripe_secret_key.reveal())
    state = await gateway.create_checkout(request)
    await gateway.aclose()

Every Stripe exception becomes a domain `PaymentError` (see `payments/errors.py`); nothing
else escapes. Tests point a real `StripeClient` at the fake server in `tests/fake_stripe/`.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe

from payments.checkout import checkout_params
from payments.errors import CHECKOUT, OTHER, REFUND, translate
from payments.objects import checkout_state, refund_state
from payments.refunds import refund_params
from scheduling.payments import (
    SESSION_OPEN,
    CheckoutRequest,
    CheckoutState,
    PaymentRejected,
    RefundRequest,
    RefundState,
)

log = logging.getLogger(__name__)

# Seconds before a Stripe call counts as failed (Stripe's own default is 80).
DEFAULT_TIMEOUT = 20.0


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class StripeGateway:
    """`scheduling.payments.PaymentGateway` over Stripe."""

    def __init__(self, client: stripe.StripeClient,
                 http_client: stripe.HTTPClient | None = None) -> None:
        self._client = client
        self._http_client = http_client  # closed by aclose() when this gateway made it

    @classmethod
    def connect(cls, api_key: str, *, api_base: str | None = None,
                timeout: float = DEFAULT_TIMEOUT, max_network_retries: int = 2
                ) -> StripeGateway:
        """A gateway with its own aiohttp-based client (`api_base` only for tests)."""
        http_client = stripe.AIOHTTPClient(timeout=timeout)
        bases = ({"api": api_base, "connect": api_base, "files": api_base}
                 if api_base else None)
        client = stripe.StripeClient(api_key, base_addresses=bases, http_client=http_client,
                                     max_network_retries=max_network_retries)
        return cls(client, http_client)

    @property
    def client(self) -> stripe.StripeClient:
        return self._client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.close_async()

    # ------------------------------------------------------------ checkout

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutState:
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params=checkout_params(request),  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key})
        except stripe.StripeError as error:
            raise translate(error, CHECKOUT) from error
        return checkout_state(_plain(session))

    async def get_checkout(self, session_id: str) -> CheckoutState:
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as error:
            raise translate(error, CHECKOUT) from error
        return checkout_state(_plain(session))

    async def expire_checkout(self, session_id: str) -> CheckoutState:
        """Expire an open session; one that is complete or expired already is returned as
        Stripe has it (expiring it is refused then)."""
        try:
            session = await self._client.v1.checkout.sessions.expire_async(
                session_id, options={"idempotency_key": f"checkout:{session_id}:expire"})
        except stripe.InvalidRequestError as error:
            current = await self.get_checkout(session_id)
            if current.status == SESSION_OPEN:
                raise translate(error, OTHER) from error
            return current
        except stripe.StripeError as error:
            raise translate(error, OTHER) from error
        return checkout_state(_plain(session))

    # ------------------------------------------------------------ refunds

    async def create_refund(self, request: RefundRequest) -> RefundState:
        try:
            refund = await self._client.v1.refunds.create_async(
                params=refund_params(request),  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key})
        except stripe.StripeError as error:
            raise translate(error, REFUND) from error
        return refund_state(_plain(refund))

    async def get_refund(self, refund_id: str) -> RefundState:
        try:
            refund = await self._client.v1.refunds.retrieve_async(refund_id)
        except stripe.StripeError as error:
            raise translate(error, REFUND) from error
        return refund_state(_plain(refund))

    async def find_refund(self, payment_intent_id: str, refund_key: str) -> RefundState | None:
        try:
            page = await self._client.v1.refunds.list_async(
                params={"payment_intent": payment_intent_id, "limit": 100})
        except stripe.StripeError as error:
            raise translate(error, REFUND) from error
        for refund in _plain(page).get("data", []):
            state = refund_state(refund)
            if state.refund_key == refund_key:
                return state
        return None

    # ------------------------------------------------------------ connected accounts

    async def create_connected_account(self, *, idempotency_key: str,
                                       metadata: dict[str, str],
                                       country: str | None = None) -> str:
        """A new Express account for a coach; its id."""
        params: dict[str, Any] = {"type": "express", "metadata": metadata,
                                  "capabilities": {"transfers": {"requested": True}}}
        if country:
            params["country"] = country
        try:
            account = await self._client.v1.accounts.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise translate(error, OTHER) from error
        account_id = _plain(account).get("id")
        if not isinstance(account_id, str):
            raise PaymentRejected("Stripe did not return the new payout account.")
        return account_id

    async def onboarding_link(self, account_id: str, *, return_url: str,
                              refresh_url: str) -> str:
        try:
            link = await self._client.v1.account_links.create_async(params={
                "account": account_id, "type": "account_onboarding",
                "return_url": return_url, "refresh_url": refresh_url})
        except stripe.StripeError as error:
            raise translate(error, OTHER) from error
        return str(_plain(link)["url"])

    async def account_ready(self, account_id: str) -> bool:
        """Whether the connected account can receive transfers (onboarding finished)."""
        try:
            account = _plain(await self._client.v1.accounts.retrieve_async(account_id))
        except stripe.StripeError as error:
            raise translate(error, OTHER) from error
        capabilities = account.get("capabilities") or {}
        return bool(account.get("details_submitted")) and (
            capabilities.get("transfers") == "active" or bool(account.get("payouts_enabled")))
