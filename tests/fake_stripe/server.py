"""A small fake of Stripe's API on 127.0.0.1 (random port) for the endpoints Coachbot calls.

It validates parameters the way Stripe does (unknown parameters, types, `expires_at` 30 min to
24 h after creation, amounts, currencies, metadata limits, destinations), keeps idempotency
keys (same key and parameters: the first response replayed; different parameters: 400
`idempotency_error`), records every request for assertions, and lets tests move objects on
(complete or expire a checkout, settle a refund), each returning the event Stripe would send.

    fake = FakeStripe(clock=clock)
    await fake.start()
    client = stripe.StripeClient(FAKE_API_KEY, base_addresses=fake.base_addresses, ...)
    ...
    event = fake.complete_checkout(session_id)
    body, headers = signed_delivery(event, "whsec_...")
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from tests.fake_stripe.events import build_event, new_id
from tests.fake_stripe.forms import FormError, decode

FAKE_API_KEY = "sk_test_coachbot"

CURRENCIES = frozenset({
    "usd", "eur", "gbp", "jpy", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "czk",
    "huf", "brl", "mxn", "inr", "sgd", "hkd", "krw",
})
ZERO_DECIMAL = frozenset({"jpy", "krw"})
# Smallest charge Stripe accepts, in minor units (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50, "cad": 50, "aud": 50, "chf": 50,
                  "sek": 300, "nok": 300, "dkk": 250, "inr": 50, "brl": 50}
MAXIMUM_AMOUNT = 99_999_999
REFUND_STATUSES = ("pending", "requires_action", "succeeded", "failed", "canceled")

CHECKOUT_PARAMS: dict[str, Any] = {
    "mode": None, "line_items": None, "success_url": None, "cancel_url": None,
    "client_reference_id": None, "metadata": None, "expires_at": None,
    "payment_intent_data": {
        "metadata": None, "description": None, "application_fee_amount": None,
        "transfer_data": {"destination": None, "amount": None}, "on_behalf_of": None,
        "statement_descriptor_suffix": None, "receipt_email": None,
    },
    "allow_promotion_codes": None, "submit_type": None, "customer_email": None,
    "locale": None, "discounts": None, "payment_method_types": None, "expand": None,
}
LINE_ITEM_PARAMS: dict[str, Any] = {
    "price": None, "quantity": None,
    "price_data": {"currency": None, "unit_amount": None, "product": None,
                   "tax_behavior": None,
                   "product_data": {"name": None, "description": None, "images": None,
                                    "metadata": None}},
}
REFUND_PARAMS: dict[str, Any] = {
    "payment_intent": None, "charge": None, "amount": None, "reason": None, "metadata": None,
    "reverse_transfer": None, "refund_application_fee": None, "expand": None,
}
ACCOUNT_PARAMS: dict[str, Any] = {
    "type": None, "country": None, "email": None, "metadata": None,
    "capabilities": {"transfers": {"requested": None}, "card_payments": {"requested": None}},
    "business_type": None,
}
ACCOUNT_LINK_PARAMS: dict[str, Any] = {
    "account": None, "type": None, "return_url": None, "refresh_url": None, "collect": None,
}


class StripeFailure(Exception):
    """An error answered the way Stripe answers it."""

    def __init__(self, message: str, *, status: int = 400, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {k: v for k, v in {
            "type": type, "code": code, "param": param, "message": message,
            "doc_url": f"https://stripe.com/docs/error-codes/{code}" if code else None,
        }.items() if v is not None}}


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def stripe_account(self) -> str | None:
        return self.headers.get("Stripe-Account")


def _missing(param: str) -> StripeFailure:
    return StripeFailure(f"Missing required param: {param}.", code="parameter_missing",
                         param=param)


def _unknown(param: str) -> StripeFailure:
    return StripeFailure(f"Received unknown parameter: {param}", code="parameter_unknown",
                         param=param)


def check_known(params: Any, schema: dict[str, Any], prefix: str = "") -> None:
    """Refuse parameters Stripe does not know (as `Received unknown parameter: a[b]`)."""
    if not isinstance(params, dict):
        return
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in schema:
            raise _unknown(name)
        sub = schema[key]
        if isinstance(sub, dict) and isinstance(value, dict):
            check_known(value, sub, name)
        elif isinstance(sub, dict) and value is not None and not isinstance(value, dict):
            raise StripeFailure(f"Invalid object for {name}", code="parameter_invalid_object",
                                param=name)


def as_int(value: Any, param: str, *, minimum: int | None = None) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeFailure(f"Invalid integer: {value}", code="parameter_invalid_integer",
                            param=param)
    number = int(value)
    if minimum is not None and number < minimum:
        raise StripeFailure(f"This value must be greater than or equal to {minimum}.",
                            code="parameter_invalid_integer", param=param)
    return number


def as_bool(value: Any, param: str) -> bool:
    if value not in ("true", "false"):
        raise StripeFailure(f"Invalid boolean: {value}", code="parameter_invalid_boolean",
                            param=param)
    return value == "true"


def as_str(value: Any, param: str, *, limit: int = 5000, required: bool = True) -> str:
    if not isinstance(value, str):
        raise StripeFailure(f"Invalid string: {value!r}", code="parameter_invalid_string",
                            param=param)
    if required and not value:
        raise StripeFailure(f"You passed an empty string for '{param}'. We assume empty "
                            "values are an attempt to unset a parameter; however "
                            f"'{param}' cannot be unset.", code="parameter_invalid_empty",
                            param=param)
    if len(value) > limit:
        raise StripeFailure(f"Invalid string: {value[:20]}...; must be at most {limit} "
                            "characters", code="parameter_invalid_string", param=param)
    return value


def as_url(value: Any, param: str) -> str:
    text = as_str(value, param)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeFailure("Not a valid URL", code="url_invalid", param=param)
    return text


def as_currency(value: Any, param: str) -> str:
    text = as_str(value, param).lower()
    if text not in CURRENCIES:
        raise StripeFailure(f"Invalid currency: {value}. Stripe currently supports these "
                            f"currencies: {', '.join(sorted(CURRENCIES))}",
                            param=param)
    return text


def check_metadata(value: Any, param: str) -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StripeFailure(f"Invalid object for {param}", code="parameter_invalid_object",
                            param=param)
    if len(value) > 50:
        raise StripeFailure("You can only specify up to 50 keys in metadata.", param=param)
    for key, item in value.items():
        if len(key) > 40:
            raise StripeFailure(f"Metadata keys can have up to 40 characters; `{key}` has "
                                f"{len(key)}.", param=f"{param}[{key}]")
        if not isinstance(item, str) or len(item) > 500:
            raise StripeFailure("Metadata values can have up to 500 characters.",
                                param=f"{param}[{key}]")
    return dict(value)


class FakeStripe:
    """The fake Stripe API. `clock` (returns an aware datetime) is Stripe's idea of now."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None,
                 api_keys: tuple[str, ...] = ()) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.api_keys = api_keys
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.session_inputs: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[tuple[str | None, str], tuple[str, int, dict[str, Any]]] = {}
        # Status of refunds created from now on (Stripe: cards usually succeed at once).
        self.refund_status = "succeeded"
        # When set, every API call answers this HTTP status (500, 503: an outage; 429).
        self.outage: int | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_addresses(self) -> dict[str, str]:
        return {"api": self.base_url, "connect": self.base_url, "files": self.base_url}

    async def start(self) -> FakeStripe:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def now(self) -> int:
        return int(self.clock().timestamp())

    # ------------------------------------------------------------ assertions

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests with this method and path (`{id}` matches any id segment)."""
        pattern = re.compile("^" + re.escape(path).replace(r"\{id\}", r"[^/]+") + "$")
        return [r for r in self.requests if r.method == method and pattern.match(r.path)]

    def last(self, method: str, path: str) -> RecordedRequest:
        found = self.calls(method, path)
        assert found, f"no {method} {path} request was made"
        return found[-1]

    # ------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        pairs = parse_qsl(body, keep_blank_values=True) if request.method == "POST" else []
        pairs += parse_qsl(request.query_string, keep_blank_values=True)
        headers = {k: v for k, v in request.headers.items()}
        record = RecordedRequest(request.method, request.path, {}, headers)
        self.requests.append(record)
        try:
            record.params = decode(pairs)
            status, payload = self._dispatch(request, pairs, record)
        except FormError as error:
            status, payload = 400, StripeFailure(str(error)).body
        except StripeFailure as failure:
            status, payload = failure.status, failure.body
        record.status, record.response = status, payload
        return web.json_response(payload, status=status,
                                 headers={"Request-Id": new_id("req")})

    def _dispatch(self, request: web.Request, pairs: list[tuple[str, str]],
                  record: RecordedRequest) -> tuple[int, dict[str, Any]]:
        self._authenticate(request)
        if self.outage is not None:
            kind = "rate_limit_error" if self.outage == 429 else "api_error"
            raise StripeFailure("An unknown error occurred (fake outage).", status=self.outage,
                                type=kind)
        route = self._route(request.method, request.path)
        if request.method != "POST":
            return 200, route(record.params, record)
        key = request.headers.get("Idempotency-Key")
        account = request.headers.get("Stripe-Account")
        fingerprint = json.dumps([request.method, request.path, sorted(pairs), account])
        if key:
            if len(key) > 255:
                raise StripeFailure("Idempotency keys can be at most 255 characters long.",
                                    param="Idempotency-Key")
            stored = self.idempotency.get((account, key))
            if stored is not None:
                first, status, response = stored
                if first != fingerprint:
                    raise StripeFailure(
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        type="idempotency_error")
                return status, json.loads(json.dumps(response))
        response = route(record.params, record)
        if key:
            self.idempotency[(account, key)] = (fingerprint, 200,
                                                json.loads(json.dumps(response)))
        return 200, response

    def _authenticate(self, request: web.Request) -> None:
        auth = request.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip()
        known = key in self.api_keys if self.api_keys else key.startswith(("sk_test_",
                                                                          "rk_test_"))
        if not known:
            raise StripeFailure(f"Invalid API Key provided: {key[:8]}****", status=401)

    def _route(self, method: str, path: str) -> Callable[[dict[str, Any], RecordedRequest],
                                                          dict[str, Any]]:
        routes: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
            ("POST", r"/v1/checkout/sessions", self._create_session),
            ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", self._get_session),
            ("POST", r"/v1/checkout/sessions/(?P<id>[^/]+)/expire", self._expire_session),
            ("POST", r"/v1/refunds", self._create_refund),
            ("GET", r"/v1/refunds", self._list_refunds),
            ("GET", r"/v1/refunds/(?P<id>[^/]+)", self._get_refund),
            ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self._get_payment_intent),
            ("POST", r"/v1/accounts", self._create_account),
            ("GET", r"/v1/accounts/(?P<id>[^/]+)", self._get_account),
            ("POST", r"/v1/account_links", self._create_account_link),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                ids = match.groupdict()
                return lambda params, record: handler(params, **ids)
        raise StripeFailure(f"Unrecognized request URL ({method}: {path}). Please see "
                            "https://stripe.com/docs or we can help at "
                            "https://support.stripe.com/.", status=404)

    # ------------------------------------------------------------ Checkout Sessions

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, CHECKOUT_PARAMS)
        if "mode" not in params:
            raise _missing("mode")
        if params["mode"] != "payment":
            raise StripeFailure("This fake only supports `mode=payment`.", param="mode")
        if "success_url" not in params:
            raise _missing("success_url")
        success_url = as_url(params["success_url"], "success_url")
        cancel_url = (as_url(params["cancel_url"], "cancel_url")
                      if "cancel_url" in params else None)
        items = params.get("line_items")
        if not items:
            raise StripeFailure("`line_items` is required in `payment` mode.",
                                param="line_items")
        if not isinstance(items, list) or len(items) > 100:
            raise StripeFailure("line_items must be a list of at most 100 items.",
                                param="line_items")
        currency, subtotal = self._check_line_items(items)
        if subtotal < MINIMUM_CHARGE.get(currency, 50):
            raise StripeFailure("The Checkout Session's total amount due must add up to at "
                                f"least {MINIMUM_CHARGE.get(currency, 50)} {currency}.",
                                code="amount_too_small", param="line_items")
        if subtotal > MAXIMUM_AMOUNT:
            raise StripeFailure("The total amount is too large.", code="amount_too_large",
                                param="line_items")
        created = self.now()
        expires_at = created + 86_400
        if "expires_at" in params:
            expires_at = as_int(params["expires_at"], "expires_at")
            if expires_at < created + 1800:
                raise StripeFailure("The `expires_at` timestamp must be at least 30 minutes "
                                    "from Checkout Session creation.", param="expires_at")
            if expires_at > created + 86_400:
                raise StripeFailure("The `expires_at` timestamp must be less than 24 hours "
                                    "from Checkout Session creation.", param="expires_at")
        metadata = check_metadata(params.get("metadata"), "metadata")
        reference = params.get("client_reference_id")
        if reference is not None:
            as_str(reference, "client_reference_id", limit=200)
        promotions = (as_bool(params["allow_promotion_codes"], "allow_promotion_codes")
                      if "allow_promotion_codes" in params else False)
        if promotions and params.get("discounts"):
            raise StripeFailure("You may only specify one of these parameters: "
                                "allow_promotion_codes, discounts.", param="discounts")
        submit_type = params.get("submit_type", "auto")
        if submit_type not in ("auto", "book", "donate", "pay", "subscribe"):
            raise StripeFailure(f"Invalid submit_type: {submit_type}", param="submit_type")
        intent = self._check_payment_intent_data(params.get("payment_intent_data") or {},
                                                 subtotal)
        session_id = new_id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment",
            "status": "open", "payment_status": "unpaid",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "client_reference_id": reference, "metadata": metadata,
            "created": created, "expires_at": expires_at, "currency": currency,
            "amount_subtotal": subtotal, "amount_total": subtotal,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "success_url": success_url, "cancel_url": cancel_url,
            "allow_promotion_codes": promotions, "submit_type": submit_type,
            "payment_intent": None, "livemode": False,
        }
        self.sessions[session_id] = session
        self.session_inputs[session_id] = {"line_items": items, "payment_intent_data": intent}
        return session

    def _check_line_items(self, items: list[Any]) -> tuple[str, int]:
        currencies = set()
        total = 0
        for index, item in enumerate(items):
            name = f"line_items[{index}]"
            if not isinstance(item, dict):
                raise StripeFailure(f"Invalid object for {name}", param=name)
            check_known(item, LINE_ITEM_PARAMS, name)
            if "quantity" not in item:
                raise _missing(f"{name}[quantity]")
            quantity = as_int(item["quantity"], f"{name}[quantity]", minimum=1)
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise StripeFailure("You must specify either `price` or `price_data` for each "
                                    "line item (this fake only knows `price_data`).",
                                    param=f"{name}[price_data]")
            if "currency" not in price:
                raise _missing(f"{name}[price_data][currency]")
            currencies.add(as_currency(price["currency"], f"{name}[price_data][currency]"))
            if "unit_amount" not in price:
                raise _missing(f"{name}[price_data][unit_amount]")
            amount = as_int(price["unit_amount"], f"{name}[price_data][unit_amount]",
                            minimum=0)
            product = price.get("product_data")
            if not isinstance(product, dict) or "name" not in product:
                raise _missing(f"{name}[price_data][product_data][name]")
            as_str(product["name"], f"{name}[price_data][product_data][name]")
            if "description" in product:
                as_str(product["description"], f"{name}[price_data][product_data][description]")
            total += amount * quantity
        if len(currencies) > 1:
            raise StripeFailure("All line items must use the same currency.",
                                param="line_items")
        return currencies.pop(), total

    def _check_payment_intent_data(self, data: dict[str, Any], total: int) -> dict[str, Any]:
        check_metadata(data.get("metadata"), "payment_intent_data[metadata]")
        transfer = data.get("transfer_data") or {}
        destination = transfer.get("destination")
        if "transfer_data" in data and destination is None:
            raise _missing("payment_intent_data[transfer_data][destination]")
        if destination is not None and destination not in self.accounts:
            raise StripeFailure(f"No such destination: '{destination}'",
                                code="resource_missing",
                                param="payment_intent_data[transfer_data][destination]")
        if "application_fee_amount" in data:
            fee = as_int(data["application_fee_amount"],
                         "payment_intent_data[application_fee_amount]", minimum=0)
            if destination is None:
                raise StripeFailure(
                    "Can only apply an application_fee_amount when the PaymentIntent is "
                    "attempting a direct payment (using an OAuth key or Stripe-Account header) "
                    "or destination payment (using `transfer_data[destination]`).",
                    param="payment_intent_data[application_fee_amount]")
            if fee > total:
                raise StripeFailure("The application fee cannot exceed the amount.",
                                    param="payment_intent_data[application_fee_amount]")
        return data

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeFailure(f"No such checkout.session: '{session_id}'", status=404,
                                code="resource_missing", param="session")
        return session

    def _get_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        session = self._session(id)
        self._expire_if_due(session)
        return session

    def _expire_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        check_known(params, {"expand": None})
        session = self._session(id)
        self._expire_if_due(session)
        if session["status"] != "open":
            raise StripeFailure("Only Checkout Sessions with a status in [\"open\"] can be "
                                f"expired. This session has a status of {session['status']}.")
        self._mark_expired(session)
        return session

    def _expire_if_due(self, session: dict[str, Any]) -> None:
        if session["status"] == "open" and self.now() >= session["expires_at"]:
            self._mark_expired(session)

    def _mark_expired(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        session["url"] = None

    # ------------------------------------------------------------ refunds

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, REFUND_PARAMS)
        if "payment_intent" in params:
            intent = self.payment_intents.get(params["payment_intent"])
            if intent is None:
                raise StripeFailure(f"No such payment_intent: '{params['payment_intent']}'",
                                    status=404, code="resource_missing",
                                    param="payment_intent")
            charge = self.charges.get(intent.get("latest_charge") or "")
        elif "charge" in params:
            charge = self.charges.get(params["charge"])
        else:
            raise StripeFailure("One of the following params should be provided for this "
                                "request: payment_intent or charge.")
        if charge is None:
            raise StripeFailure("This PaymentIntent does not have a successful charge to "
                                "refund.", code="charge_not_refundable")
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise StripeFailure(f"Charge {charge['id']} has already been refunded.",
                                code="charge_already_refunded")
        amount = as_int(params["amount"], "amount", minimum=1) if "amount" in params else left
        if amount > left:
            raise StripeFailure(f"Refund amount ({amount}) is greater than unrefunded amount "
                                f"on charge ({left})", param="amount")
        reason = params.get("reason")
        if reason is not None and reason not in ("duplicate", "fraudulent",
                                                 "requested_by_customer"):
            raise StripeFailure(f"Invalid reason: {reason}", param="reason")
        reverse = (as_bool(params["reverse_transfer"], "reverse_transfer")
                   if "reverse_transfer" in params else False)
        refund_fee = (as_bool(params["refund_application_fee"], "refund_application_fee")
                      if "refund_application_fee" in params else False)
        if reverse and not charge.get("transfer_data"):
            raise StripeFailure("You cannot reverse the transfer of a charge that has no "
                                "destination (transfer_data).", param="reverse_transfer")
        if refund_fee and not charge.get("application_fee_amount"):
            raise StripeFailure("This charge has no application fee to refund.",
                                param="refund_application_fee")
        refund = {
            "id": new_id("re"), "object": "refund", "amount": amount,
            "charge": charge["id"], "payment_intent": charge["payment_intent"],
            "currency": charge["currency"], "created": self.now(),
            "metadata": check_metadata(params.get("metadata"), "metadata"),
            "reason": reason, "status": self.refund_status,
            "failure_reason": None,
            "reverse_transfer": reverse, "refund_application_fee": refund_fee,
        }
        self.refunds[refund["id"]] = refund
        self._recount(charge)
        return refund

    def _recount(self, charge: dict[str, Any]) -> None:
        refunds = [r for r in self.refunds.values() if r["charge"] == charge["id"]]
        charge["amount_refunded"] = sum(r["amount"] for r in refunds
                                        if r["status"] not in ("failed", "canceled"))
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]

    def _refund(self, refund_id: str) -> dict[str, Any]:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise StripeFailure(f"No such refund: '{refund_id}'", status=404,
                                code="resource_missing", param="id")
        return refund

    def _get_refund(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self._refund(id)

    def _list_refunds(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, {"payment_intent": None, "charge": None, "limit": None,
                             "starting_after": None, "ending_before": None, "expand": None})
        limit = as_int(params.get("limit", "10"), "limit", minimum=1)
        found = [r for r in self.refunds.values()
                 if ("payment_intent" not in params
                     or r["payment_intent"] == params["payment_intent"])
                 and ("charge" not in params or r["charge"] == params["charge"])]
        found.sort(key=lambda r: r["created"], reverse=True)
        return {"object": "list", "url": "/v1/refunds", "has_more": len(found) > limit,
                "data": found[:limit]}

    def _get_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        intent = self.payment_intents.get(id)
        if intent is None:
            raise StripeFailure(f"No such payment_intent: '{id}'", status=404,
                                code="resource_missing", param="intent")
        return intent

    # ------------------------------------------------------------ Connect

    def add_account(self, account_id: str | None = None, *, ready: bool = True) -> str:
        """A connected account that can receive destination charges."""
        account_id = account_id or new_id("acct")
        self.accounts[account_id] = {
            "id": account_id, "object": "account", "type": "express",
            "details_submitted": ready, "charges_enabled": ready, "payouts_enabled": ready,
            "capabilities": {"transfers": "active" if ready else "inactive"}, "metadata": {},
        }
        return account_id

    def _create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, ACCOUNT_PARAMS)
        if params.get("type") not in ("express", "standard", "custom"):
            raise StripeFailure("Invalid type: must be one of express, standard or custom.",
                                param="type")
        account_id = self.add_account(ready=False)
        self.accounts[account_id]["metadata"] = check_metadata(params.get("metadata"),
                                                               "metadata")
        return self.accounts[account_id]

    def _get_account(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        account = self.accounts.get(id)
        if account is None:
            raise StripeFailure(f"No such account: '{id}'", status=404,
                                code="resource_missing", param="account")
        return account

    def _create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, ACCOUNT_LINK_PARAMS)
        for name in ("account", "type"):
            if name not in params:
                raise _missing(name)
        self._get_account({}, params["account"])
        if params["type"] not in ("account_onboarding", "account_update"):
            raise StripeFailure(f"Invalid type: {params['type']}", param="type")
        for name in ("return_url", "refresh_url"):
            if name in params:
                as_url(params[name], name)
        return {"object": "account_link", "created": self.now(),
                "expires_at": self.now() + 300,
                "url": f"https://connect.stripe.com/setup/e/{params['account']}/{new_id('l')}"}

    # ------------------------------------------------------------ moving things on (tests)

    def _event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return build_event(event_type, obj, created=int(time.time()))

    def session_for_booking(self, booking_id: int) -> dict[str, Any]:
        found = [s for s in self.sessions.values()
                 if s["client_reference_id"] == str(booking_id)]
        assert found, f"no Checkout Session for booking {booking_id}"
        return found[-1]

    def complete_checkout(self, session_id: str, *, discount_minor: int = 0,
                          delayed: bool = False) -> dict[str, Any]:
        """The student pays (`delayed`: with a method that settles later, e.g. SEPA debit).
        Returns the `checkout.session.completed` event."""
        session = self._session(session_id)
        self._expire_if_due(session)
        assert session["status"] == "open", f"session is {session['status']}"
        if discount_minor:
            assert session["allow_promotion_codes"], "promotion codes are not allowed here"
            assert 0 < discount_minor <= session["amount_subtotal"]
        total = session["amount_subtotal"] - discount_minor
        session["amount_total"] = total
        session["total_details"]["amount_discount"] = discount_minor
        session["status"] = "complete"
        session["url"] = None
        if total == 0:
            session["payment_status"] = "no_payment_required"
            return self._event("checkout.session.completed", session)
        intent = self._new_payment_intent(session, total, succeeded=not delayed)
        session["payment_intent"] = intent["id"]
        session["payment_status"] = "unpaid" if delayed else "paid"
        return self._event("checkout.session.completed", session)

    def settle_delayed_payment(self, session_id: str, *, succeeded: bool = True
                               ) -> dict[str, Any]:
        """The delayed payment of a completed session succeeds or fails; the event."""
        session = self._session(session_id)
        intent = self.payment_intents[session["payment_intent"]]
        if succeeded:
            intent["status"] = "succeeded"
            self._charge(intent)
            session["payment_status"] = "paid"
            return self._event("checkout.session.async_payment_succeeded", session)
        intent["status"] = "requires_payment_method"
        return self._event("checkout.session.async_payment_failed", session)

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """The session runs out unpaid; the `checkout.session.expired` event."""
        session = self._session(session_id)
        assert session["status"] == "open", f"session is {session['status']}"
        self._mark_expired(session)
        return self._event("checkout.session.expired", session)

    def _new_payment_intent(self, session: dict[str, Any], amount: int, *,
                            succeeded: bool) -> dict[str, Any]:
        data = self.session_inputs[session["id"]]["payment_intent_data"]
        transfer = data.get("transfer_data")
        intent = {
            "id": new_id("pi"), "object": "payment_intent", "amount": amount,
            "currency": session["currency"], "metadata": dict(data.get("metadata") or {}),
            "description": data.get("description"),
            "status": "succeeded" if succeeded else "processing",
            "application_fee_amount": (int(data["application_fee_amount"])
                                       if "application_fee_amount" in data else None),
            "transfer_data": ({"destination": transfer["destination"]} if transfer else None),
            "latest_charge": None, "created": self.now(),
        }
        self.payment_intents[intent["id"]] = intent
        if succeeded:
            self._charge(intent)
        return intent

    def _charge(self, intent: dict[str, Any]) -> dict[str, Any]:
        charge = {
            "id": new_id("ch"), "object": "charge", "amount": intent["amount"],
            "amount_captured": intent["amount"], "amount_refunded": 0, "refunded": False,
            "currency": intent["currency"], "payment_intent": intent["id"], "paid": True,
            "status": "succeeded", "metadata": dict(intent["metadata"]),
            "application_fee_amount": intent["application_fee_amount"],
            "transfer_data": intent["transfer_data"], "created": self.now(),
        }
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        return charge

    def settle_refund(self, refund_id: str, status: str = "succeeded", *,
                      failure_reason: str | None = None) -> dict[str, Any]:
        """A refund moves on at the bank; the `refund.updated` (or `refund.failed`) event."""
        assert status in REFUND_STATUSES
        refund = self._refund(refund_id)
        previous = refund["status"]
        refund["status"] = status
        refund["failure_reason"] = failure_reason if status == "failed" else None
        self._recount(self.charges[refund["charge"]])
        event_type = "refund.failed" if status == "failed" else "refund.updated"
        event = self._event(event_type, refund)
        event["data"]["previous_attributes"] = {"status": previous}
        return event

    def charge_refunded_event(self, payment_intent_id: str, *, list_refunds: bool = False
                              ) -> dict[str, Any]:
        """`charge.refunded` for the payment's charge (recent API versions do not list the
        refunds in it; `list_refunds` adds them as older versions did)."""
        intent = self.payment_intents[payment_intent_id]
        charge = dict(self.charges[intent["latest_charge"]])
        if list_refunds:
            refunds = [r for r in self.refunds.values() if r["charge"] == charge["id"]]
            charge["refunds"] = {"object": "list", "data": refunds, "has_more": False}
        return self._event("charge.refunded", charge)

    def refund_in_dashboard(self, payment_intent_id: str, amount: int) -> dict[str, Any]:
        """An admin refunds in the Stripe Dashboard (no Coachbot metadata); `refund.created`."""
        intent = self.payment_intents[payment_intent_id]
        charge = self.charges[intent["latest_charge"]]
        refund = {
            "id": new_id("re"), "object": "refund", "amount": amount, "charge": charge["id"],
            "payment_intent": payment_intent_id, "currency": charge["currency"],
            "created": self.now(), "metadata": {}, "reason": "requested_by_customer",
            "status": "succeeded", "failure_reason": None,
        }
        self.refunds[refund["id"]] = refund
        self._recount(charge)
        return self._event("refund.created", refund)
