import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.errors import InvalidInput
from scheduling.money import Money, format_money, normalise_currency, parse_price


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("25", "usd", 2500), ("25.50", "USD", 2550), ("$25", "USD", 2500), ("1,200", "EUR", 120000),
    ("0", "USD", 0), ("0.5", "GBP", 50), ("3000", "JPY", 3000), (" 9.99 ", "USD", 999),
    ("40,5", "EUR", 4050), ("40,50", "EUR", 4050), ("€40,50", "EUR", 4050),
])
def test_prices_become_integer_minor_units(text, currency, minor):
    price = parse_price(text, currency)
    assert price == Money(minor, currency.upper())
    assert isinstance(price.minor, int)


@pytest.mark.parametrize(("text", "message"), [
    ("-5", "cannot be negative"), ("100000000", "more than"), ("abc", "is not a price"),
    ("25.555", "decimal places"), ("", "is not a price"), ("1e5", "is not a price"),
])
def test_bad_prices_say_what_to_do(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_price(text, "USD")


def test_zero_decimal_currency_refuses_fractions():
    with pytest.raises(InvalidInput, match="no decimal places"):
        parse_price("10.5", "JPY")


def test_currency_codes():
    assert normalise_currency(" eur ") == "EUR"
    with pytest.raises(InvalidInput, match="3-letter"):
        normalise_currency("euro")


def test_formatting():
    assert format_money(2550, "USD") == "$25.50"
    assert format_money(120000, "EUR") == "€1,200.00"
    assert format_money(3000, "JPY") == "¥3,000"
    assert format_money(1000, "SEK") == "10.00 SEK"
    assert format_money(0, "USD") == "Free"


@given(st.text(max_size=20))
def test_any_typed_price_is_minor_units_or_a_message(text):
    try:
        price = parse_price(text, "USD")
    except InvalidInput as exc:
        assert exc.user_message
    else:
        assert 0 <= price.minor <= 10_000_000
