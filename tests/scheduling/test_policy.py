from datetime import timedelta

import pytest

from scheduling.errors import InvalidInput
from scheduling.policy import DEFAULT_POLICY, Policy, RefundTier, make_policy

TIERED = make_policy([(24, 50), (48, 100)], max_reschedules=2, reschedule_min_notice_hours=12)


@pytest.mark.parametrize(("notice", "percent"), [
    (timedelta(hours=72), 100),
    (timedelta(hours=48), 100),
    (timedelta(hours=47, minutes=59), 50),
    (timedelta(hours=24), 50),
    (timedelta(hours=23, minutes=59), None),
    (timedelta(0), None),
])
def test_tier_boundaries(notice, percent):
    assert TIERED.refund_percent(notice) == percent


def test_refund_amount_is_integer_and_rounds_down():
    assert TIERED.refund_amount(999, timedelta(hours=30)) == 499
    assert TIERED.refund_amount(999, timedelta(hours=50)) == 999
    assert TIERED.refund_amount(999, timedelta(hours=1)) is None


def test_reschedule_rules():
    assert TIERED.may_reschedule(timedelta(hours=12), done=1)
    assert not TIERED.may_reschedule(timedelta(hours=11), done=0)
    assert not TIERED.may_reschedule(timedelta(hours=100), done=2)


def test_round_trip_and_description():
    assert Policy.from_dict(TIERED.to_dict()) == TIERED
    text = "\n".join(TIERED.describe())
    assert "48 h or more before: 100 % refund" in text
    assert "Under 24 h: no self-service cancellation" in text
    assert "Reschedule up to 2x, until 12 h before" in text


def test_default_policy():
    assert DEFAULT_POLICY.tiers == (RefundTier(24, 100),)


@pytest.mark.parametrize(("tiers", "message"), [
    ([(24, 101)], "between 0 and 100"),
    ([(-1, 50)], "between 0 and 1440"),
    ([(24, 50), (24, 100)], "same notice"),
    ([(48, 50), (24, 100)], "never refund less"),
])
def test_invalid_policies(tiers, message):
    with pytest.raises(InvalidInput, match=message):
        make_policy(tiers)
