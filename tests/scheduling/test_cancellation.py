"""Pure parts of the cancellation service: the reason, the policy message, autocomplete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.cancellation import (
    REASON_LIMIT,
    clean_reason,
    no_cancel_message,
    upcoming_choices,
)
from scheduling.errors import InvalidInput
from scheduling.policy import make_policy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class Row:
    booking_id: int
    offering_title: str
    start_at: datetime
    status: str = "confirmed"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=REASON_LIMIT + 20))
def test_any_reason_is_kept_as_given_or_refused_with_a_message(text):
    try:
        cleaned = clean_reason(text)
    except InvalidInput as error:
        assert error.user_message
        assert not text.strip() or len(text.strip()) > REASON_LIMIT
    else:
        assert cleaned == text.strip() and 0 < len(cleaned) <= REASON_LIMIT


def test_reason_with_mentions_is_kept_verbatim():
    assert clean_reason("  sorry @everyone <@&1>  ") == "sorry @everyone <@&1>"


@pytest.mark.parametrize("text", ["", "   ", "x" * (REASON_LIMIT + 1)])
def test_bad_reasons_are_refused(text):
    with pytest.raises(InvalidInput):
        clean_reason(text)


def test_no_cancel_message_lists_the_policy():
    text = no_cancel_message(make_policy([(48, 100), (24, 50)]), NOW + timedelta(hours=5))
    assert "48 h or more before: 100 % refund" in text
    assert "coach can still cancel" in text
    assert f"<t:{int((NOW + timedelta(hours=5)).timestamp())}:R>" in text


def test_upcoming_choices_skip_started_and_unpaid_and_filter():
    rows = [Row(1, "Mock interview", NOW + timedelta(days=1)),
            Row(2, "Intro call", NOW + timedelta(days=2)),
            Row(3, "Started", NOW - timedelta(minutes=5)),
            Row(4, "Held", NOW + timedelta(days=1), status="pending_payment")]
    assert [b for _, b in upcoming_choices(rows, "", now=NOW)] == [1, 2]
    assert [b for _, b in upcoming_choices(rows, "intro", now=NOW)] == [2]
    assert [b for _, b in upcoming_choices(rows, "#1", now=NOW)] == [1]
