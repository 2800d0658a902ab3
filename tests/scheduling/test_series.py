"""Weekly occurrences keep the coach's wall-clock time across DST, and a discounted series
total is split over its occurrences without losing a cent."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.errors import InvalidInput
from scheduling.payments import split_amount
from scheduling.series import MAX_WEEKS, weekly_starts


def test_new_york_ten_oclock_stays_ten_oclock_across_the_fall_back():
    first = datetime(2026, 10, 27, 14, 0, tzinfo=UTC)  # Tue 10:00 EDT
    starts = weekly_starts(first, 3, "America/New_York")
    assert starts == [first, datetime(2026, 11, 3, 15, 0, tzinfo=UTC),  # 10:00 EST
                      datetime(2026, 11, 10, 15, 0, tzinfo=UTC)]


def test_london_across_the_spring_forward():
    first = datetime(2027, 3, 23, 9, 0, tzinfo=UTC)  # Tue 09:00 GMT
    assert weekly_starts(first, 2, "Europe/London")[1] == datetime(2027, 3, 30, 8, 0,
                                                                   tzinfo=UTC)  # 09:00 BST


@pytest.mark.parametrize("weeks", [0, -1, MAX_WEEKS + 1])
def test_weeks_out_of_range_are_refused(weeks):
    with pytest.raises(InvalidInput):
        weekly_starts(datetime(2026, 11, 24, 10, tzinfo=UTC), weeks, "UTC")


@given(total=st.integers(0, 10**7), weights=st.lists(st.integers(1, 10**5), min_size=1,
                                                     max_size=12))
def test_shares_add_up_and_follow_the_weights(total, weights):
    shares = split_amount(total, weights)
    assert sum(shares) == total
    assert all(share >= 0 for share in shares)
    if len(set(weights)) == 1:
        assert max(shares) - min(shares) <= len(weights)
