"""Money as integer minor units plus an ISO 4217 code. Never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from scheduling.errors import InvalidInput

# Currencies Stripe settles without a minor unit (zero-decimal currencies).
ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
})
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$",
           "AUD": "A$", "NZD": "NZ$", "CHF": "CHF ", "BRL": "R$"}
# Largest price accepted for one session, in major units (Stripe's own cap is 999,999.99 USD).
MAX_MAJOR_UNITS = 100_000
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_AMOUNT = re.compile(
    r"^\s*[^\d\-+.,]{0,3}\s*(?P<num>[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\d+,\d{1,2}|[-+]?\.\d+)\s*$")
# `40,5` and `40,50` use a decimal comma; `1,200` groups thousands (three digits follow).
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d{1,2}$")


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str

    @property
    def is_free(self) -> bool:
        return self.minor == 0

    def __str__(self) -> str:
        return format_money(self.minor, self.currency)


def normalise_currency(code: str) -> str:
    if not _CURRENCY.match(code.strip()):
        raise InvalidInput(
            f"`{code.strip()[:10]}` is not a currency code. "
            "Use a 3-letter ISO code like USD or EUR."
        )
    return code.strip().upper()


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def parse_price(text: str, currency: str) -> Money:
    """`25`, `25.50`, `$25`, `1,200` in major units -> Money. `0` is free."""
    currency = normalise_currency(currency)
    match = _AMOUNT.match(text)
    if not match:
        raise InvalidInput(f"`{text.strip()[:20]}` is not a price. Type a number like `25` or "
                           f"`25.50` ({currency}); `0` makes the offering free.")
    try:
        amount = Decimal(_plain_number(match["num"]))
    except InvalidOperation:
        raise InvalidInput(f"`{text.strip()[:20]}` is not a price.") from None
    if amount < 0:
        raise InvalidInput("A price cannot be negative. Use `0` for a free offering.")
    if amount > MAX_MAJOR_UNITS:
        raise InvalidInput(
            f"{amount:,} {currency} is more than the {MAX_MAJOR_UNITS:,} {currency} a single "
            "session may cost. Check for a typo."
        )
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        places = exponent(currency)
        raise InvalidInput(
            f"{currency} prices have {places} decimal place{'s' if places != 1 else ''}"
            if places else f"{currency} prices have no decimal places."
        )
    return Money(int(scaled), currency)


def _plain_number(text: str) -> str:
    if _DECIMAL_COMMA.match(text):
        return text.replace(",", ".")
    return text.replace(",", "")


def format_money(minor: int, currency: str) -> str:
    """`$25.00`, `€9.50`, `¥3000`, `25.00 SEK`; `Free` for zero."""
    if minor == 0:
        return "Free"
    places = exponent(currency)
    major = Decimal(minor).scaleb(-places)
    number = f"{major:,.{places}f}"
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"
