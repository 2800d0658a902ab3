"""The doctor's findings from plain facts: each problem detected, each with its fix."""

from dataclasses import replace

import pytest

from scheduling.doctor import (
    ALL_GOOD,
    ChannelState,
    DoctorFacts,
    RoleState,
    Severity,
    diagnose,
)

HEALTHY = DoctorFacts(
    bot_role_name="Coachbot",
    bot_role_position=5,
    manage_roles=True,
    manage_channels=True,
    access_role_id=11,
    access_role=RoleState(id=11, name="Coaching Access", position=1, below_bot=True),
    category_id=22,
    category=ChannelState(id=22, name="Coaching", is_text=False, is_category=True),
    log_channel_id=33,
    log_channel=ChannelState(id=33, name="coach-log"),
    required_role_id=44,
    required_role=RoleState(id=44, name="Verified", position=2, below_bot=True),
    stripe_configured=False,
    paid_published_offerings=0,
)


def only(facts: DoctorFacts):
    report = diagnose(facts)
    assert len(report.findings) == 1, report.findings
    return report.findings[0]


def test_a_healthy_server_is_all_good():
    report = diagnose(HEALTHY)
    assert report.all_good
    assert report.findings == () == report.problems == report.warnings
    assert ALL_GOOD.startswith("All good")


def test_unset_optional_settings_are_not_problems():
    facts = replace(HEALTHY, log_channel_id=None, log_channel=None, required_role_id=None,
                    required_role=None)
    assert diagnose(facts).all_good


def test_missing_manage_roles_and_manage_channels_each_say_where_to_turn_them_on():
    report = diagnose(replace(HEALTHY, manage_roles=False, manage_channels=False))
    titles = [f.title for f in report.findings]
    assert titles == ["I lack the Manage Roles permission",
                      "I lack the Manage Channels permission"]
    assert report.findings[0].fix == ("In Server Settings > Roles, open my role (`Coachbot`) "
                                      "and turn on Manage Roles.")
    assert report.findings[1].fix.endswith("turn on Manage Channels.")
    assert all(f.severity is Severity.PROBLEM for f in report.findings)


def test_access_role_not_set():
    finding = only(replace(HEALTHY, access_role_id=None, access_role=None))
    assert finding.title == "The Coaching Access role is not set"
    assert "/coaching setup create_access_role: True" in finding.fix


def test_access_role_deleted():
    finding = only(replace(HEALTHY, access_role=None))
    assert finding.title == "The Coaching Access role was deleted"
    assert "id 11" in finding.detail
    assert "access_role: @role" in finding.fix


def test_access_role_at_or_above_the_bot():
    too_high = RoleState(id=11, name="Coaching Access", position=7, below_bot=False)
    finding = only(replace(HEALTHY, access_role=too_high))
    assert finding.severity is Severity.PROBLEM
    assert finding.title == (
        "The Coaching Access role `Coaching Access` is at or above my highest role")
    assert "position 7" in finding.detail and "at 5" in finding.detail
    assert finding.fix == ("In Server Settings > Roles, drag my role (`Coachbot`) above "
                           "`Coaching Access` and save.")


def test_managed_access_role():
    managed = RoleState(id=11, name="Some Bot", position=1, below_bot=True, managed=True)
    assert "managed by an integration" in only(replace(HEALTHY, access_role=managed)).title


def test_category_not_set_deleted_or_replaced_by_a_text_channel():
    assert only(replace(HEALTHY, category_id=None, category=None)).title == (
        "The session category is not set")
    assert only(replace(HEALTHY, category=None)).title == "The session category was deleted"
    text_channel = ChannelState(id=22, name="general")
    assert only(replace(HEALTHY, category=text_channel)).title == (
        "The session category was deleted")


def test_category_the_bot_cannot_see():
    hidden = replace(HEALTHY.category, view=False)
    finding = only(replace(HEALTHY, category=hidden))
    assert finding.title == "I cannot see the category `Coaching`"
    assert finding.fix.startswith("Edit the permissions of `Coaching` and allow View Channel")
    assert "my role (`Coachbot`)" in finding.fix


def test_category_that_denies_managing_channels():
    denied = replace(HEALTHY.category, manage_channels=False, manage_permissions=False)
    finding = only(replace(HEALTHY, category=denied))
    assert finding.title == "I cannot manage channels in `Coaching`"
    assert "allow Manage Channels and Manage Permissions" in finding.fix


def test_required_role_deleted_blocks_booking():
    finding = only(replace(HEALTHY, required_role=None))
    assert finding.title == "The role required to book was deleted"
    assert "clear: required role" in finding.fix


@pytest.mark.parametrize(("stripe", "paid", "found"), [
    (False, 0, False), (True, 3, False), (False, 1, True), (False, 4, True)])
def test_stripe_matters_only_when_paid_offerings_are_published(stripe, paid, found):
    report = diagnose(replace(HEALTHY, stripe_configured=stripe, paid_published_offerings=paid))
    assert (not report.all_good) is found
    if found:
        finding = report.findings[0]
        assert finding.title == "Stripe is not configured but paid offerings are published"
        assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in finding.fix
        assert f"{paid} paid offering" in finding.detail


def test_log_channel_deleted_is_a_warning():
    finding = only(replace(HEALTHY, log_channel=None))
    assert finding.severity is Severity.WARNING
    assert finding.title == "The log channel was deleted"
    assert "log_channel: #channel" in finding.fix


def test_log_channel_not_writable_names_every_missing_permission():
    blocked = replace(HEALTHY.log_channel, send_messages=False, embed_links=False)
    finding = only(replace(HEALTHY, log_channel=blocked))
    assert finding.severity is Severity.WARNING
    assert finding.title == "I cannot post in the log channel #coach-log"
    assert finding.fix == ("Edit the permissions of #coach-log and allow Send Messages and "
                           "Embed Links for my role (`Coachbot`).")
    one = only(replace(HEALTHY, log_channel=replace(HEALTHY.log_channel, embed_links=False)))
    assert "allow Embed Links for" in one.fix


def test_problems_come_before_warnings():
    report = diagnose(replace(HEALTHY, log_channel=None, manage_roles=False, category=None))
    assert [f.severity for f in report.findings] == [
        Severity.PROBLEM, Severity.PROBLEM, Severity.WARNING]
    assert len(report.problems) == 2 and len(report.warnings) == 1


def test_every_finding_has_a_detail_and_a_fix_sentence():
    broken = DoctorFacts(
        bot_role_name="Coachbot", bot_role_position=1, manage_roles=False,
        manage_channels=False, access_role_id=1, access_role=None, category_id=2,
        category=None, log_channel_id=3, log_channel=None, required_role_id=4,
        required_role=None, stripe_configured=False, paid_published_offerings=2)
    report = diagnose(broken)
    assert len(report.findings) == 7
    for finding in report.findings:
        assert finding.detail and finding.fix.endswith(".")
