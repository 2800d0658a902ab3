import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.errors import InvalidInput
from scheduling.timezones import describe_timezone, resolve_timezone, search_timezones


def test_city_search_finds_the_zone_first():
    assert search_timezones("new york")[0] == "America/New_York"
    assert search_timezones("Berlin")[0] == "Europe/Berlin"
    assert search_timezones("kolk")[0] == "Asia/Kolkata"


def test_abbreviation_search():
    assert "America/New_York" in search_timezones("EST")
    assert "Europe/Berlin" in search_timezones("cest")


def test_empty_query_suggests_common_zones_and_limit_is_respected():
    assert "UTC" in search_timezones("")
    assert len(search_timezones("a")) == 25


def test_describe_shows_offset_at_the_given_instant():
    winter = datetime(2026, 1, 10, tzinfo=UTC)
    summer = datetime(2026, 7, 10, tzinfo=UTC)
    assert describe_timezone("Europe/Berlin", winter) == "Europe/Berlin (UTC+01:00, CET)"
    assert describe_timezone("Europe/Berlin", summer) == "Europe/Berlin (UTC+02:00, CEST)"
    assert describe_timezone("Asia/Kolkata", winter) == "Asia/Kolkata (UTC+05:30, IST)"
    assert describe_timezone("America/St_Johns", winter).startswith("America/St_Johns (UTC-03:30")


@pytest.mark.parametrize(("typed", "zone"), [
    ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
    ("new york", "America/New_York"), ("UTC", "UTC"),
])
def test_resolve_accepts_names_and_unique_cities(typed, zone):
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize("typed", ["Mars/Base", "", "../../etc/passwd", "EST5EDT-x"])
def test_resolve_refuses_unknown_zones_with_guidance(typed):
    with pytest.raises(InvalidInput, match="Unknown timezone"):
        resolve_timezone(typed)


@given(st.text(max_size=40))
def test_resolve_never_fails_unexpectedly(text):
    with contextlib.suppress(InvalidInput):
        assert resolve_timezone(text)
