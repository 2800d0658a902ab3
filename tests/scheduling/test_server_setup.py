"""Server setup and coach grants as pure use cases, over an in-memory unit of work."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import server_setup as svc
from scheduling.errors import InvalidInput
from scheduling.policy import DEFAULT_POLICY, make_policy
from scheduling.server_setup import RoleFacts, ServerConfig, SetupRequest
from storage.models.values import DEFAULT_CURRENCY

GUILD = 10
ADMIN = 20
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROLE = RoleFacts(id=101, name="Students")


# ---------------------------------------------------------------- fakes


@dataclass
class Row:
    guild_id: int
    access_role_id: int | None = None
    category_id: int | None = None
    log_channel_id: int | None = None
    required_role_id: int | None = None
    currency: str = "USD"
    default_policy: dict[str, Any] = field(default_factory=DEFAULT_POLICY.to_dict)
    platform_fee_percent: int = 0
    channel_retention_days: int = 7
    referral_commission_percent: int = 0


class FakeSettings:
    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.paid = 0

    async def get(self, guild_id: int) -> Row | None:
        return self.rows.get(guild_id)

    async def update(self, guild_id: int, **values: Any) -> Row:
        row = self.rows.setdefault(guild_id, Row(guild_id))
        for key, value in values.items():
            setattr(row, key, value)
        return row

    async def count_paid_published_offerings(self, guild_id: int) -> int:
        return self.paid


@dataclass
class Grant:
    kind: str
    target_id: int


class FakeGrants:
    def __init__(self) -> None:
        self.grants: list[Grant] = []

    async def list_for_guild(self, guild_id: int) -> list[Grant]:
        return list(self.grants)

    async def add(self, guild_id: int, kind: str, target_id: int) -> bool:
        if Grant(kind, target_id) in self.grants:
            return False
        self.grants.append(Grant(kind, target_id))
        return True

    async def remove(self, guild_id: int, kind: str, target_id: int) -> bool:
        if Grant(kind, target_id) not in self.grants:
            return False
        self.grants.remove(Grant(kind, target_id))
        return True


@dataclass
class Profile:
    user_id: int
    display_name: str


class FakeCoaches:
    def __init__(self) -> None:
        self.profiles: list[Profile] = []

    async def list_for_guild(self, guild_id: int) -> list[Profile]:
        return list(self.profiles)


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def add(self, **entry: Any) -> dict[str, Any]:
        self.entries.append(entry)
        return entry


class FakeUow:
    def __init__(self) -> None:
        self.guild_settings = FakeSettings()
        self.coach_grants = FakeGrants()
        self.coaches = FakeCoaches()
        self.audit = FakeAudit()


# ---------------------------------------------------------------- reading


def test_default_currency_matches_the_column_default():
    assert svc.DEFAULT_CURRENCY == DEFAULT_CURRENCY


async def test_unconfigured_server_reads_as_defaults_without_writing():
    uow = FakeUow()
    config = await svc.get_config(uow, GUILD)
    assert config == ServerConfig(GUILD)
    assert not config.configured
    assert config.policy == DEFAULT_POLICY
    assert uow.guild_settings.rows == {}


async def test_doctor_inputs_carry_the_paid_offering_count():
    uow = FakeUow()
    uow.guild_settings.paid = 3
    inputs = await svc.doctor_inputs(uow, GUILD)
    assert inputs.paid_published_offerings == 3
    assert inputs.config.guild_id == GUILD


def test_currency_search_matches_code_and_name_codes_first():
    assert svc.search_currencies("eu")[0] == ("EUR", "EUR: Euro")
    dollars = [code for code, _ in svc.search_currencies("dollar")]
    assert {"USD", "CAD", "AUD", "NZD", "SGD", "HKD"} <= set(dollars)
    assert len(svc.search_currencies("")) == 25
    assert svc.search_currencies("zzz") == []


# ---------------------------------------------------------------- planning


def plan(request: SetupRequest, current: ServerConfig | None = None) -> svc.SetupPlan:
    return svc.plan_setup(current or ServerConfig(GUILD), request)


def test_empty_request_is_empty_even_with_existing_role_facts():
    assert SetupRequest().is_empty
    assert SetupRequest(existing_access_role=ROLE, existing_category_id=5).is_empty
    assert not SetupRequest(currency="EUR").is_empty
    assert not SetupRequest(clear=frozenset({"log_channel"})).is_empty


def test_plan_collects_ids_currency_and_a_single_tier_policy():
    result = plan(SetupRequest(access_role=ROLE, category_id=7, log_channel_id=8,
                               required_role=RoleFacts(9, "Verified"), currency=" eur ",
                               cancel_notice_hours=48, refund_percent=50))
    assert result.values == {
        "access_role_id": 101, "category_id": 7, "log_channel_id": 8, "required_role_id": 9,
        "currency": "EUR", "default_policy": make_policy([(48, 50)]).to_dict(),
    }
    assert not result.create_access_role and not result.create_category


def test_half_a_policy_keeps_the_other_half_and_the_reschedule_rules():
    current = ServerConfig(GUILD, default_policy=make_policy(
        [(72, 80)], max_reschedules=3, reschedule_min_notice_hours=12).to_dict())
    only_percent = plan(SetupRequest(refund_percent=50), current).values["default_policy"]
    assert only_percent == make_policy([(72, 50)], max_reschedules=3,
                                       reschedule_min_notice_hours=12).to_dict()
    only_hours = plan(SetupRequest(cancel_notice_hours=6), current).values["default_policy"]
    assert only_hours["tiers"] == [{"min_notice_hours": 6, "refund_percent": 80}]
    assert only_hours["max_reschedules"] == 3


@pytest.mark.parametrize(("request_", "message"), [
    (SetupRequest(refund_percent=150), "between 0 and 100"),
    (SetupRequest(refund_percent=-1), "between 0 and 100"),
    (SetupRequest(cancel_notice_hours=-1), "cannot be negative"),
    (SetupRequest(cancel_notice_hours=100_000), "between 0 and 1440"),
    (SetupRequest(currency="euro"), "not a currency code"),
    (SetupRequest(currency="€"), "3-letter ISO code"),
    (SetupRequest(access_role=ROLE, create_access_role=True), "not both"),
    (SetupRequest(category_id=3, create_category=True), "not both"),
    (SetupRequest(log_channel_id=3, clear=frozenset({"log_channel"})), "or clear it"),
    (SetupRequest(required_role=ROLE, clear=frozenset({"required_role"})), "or clear it"),
    (SetupRequest(clear=frozenset({"currency"})), "cannot be cleared"),
    (SetupRequest(access_role=RoleFacts(GUILD, "@everyone", is_default=True)), "@everyone"),
    (SetupRequest(access_role=RoleFacts(5, "Coachbot", managed=True)), "managed by a bot"),
    (SetupRequest(access_role=RoleFacts(5, "Mods", below_bot=False, bot_role_name="Coachbot")),
     "Move my role above it in Server Settings > Roles"),
    (SetupRequest(required_role=RoleFacts(GUILD, "@everyone", is_default=True)),
     "would not restrict anything"),
])
def test_bad_requests_are_refused_with_what_to_do(request_, message):
    with pytest.raises(InvalidInput, match=message):
        plan(request_)


def test_role_above_the_bot_names_both_roles():
    with pytest.raises(InvalidInput) as info:
        svc.check_access_role(RoleFacts(5, "Mods", below_bot=False, bot_role_name="Coachbot"))
    assert "`Mods` is at or above my highest role (`Coachbot`)" in info.value.user_message


def test_required_role_may_be_managed_or_above_the_bot():
    booster = RoleFacts(5, "Server Booster", managed=True, below_bot=False)
    assert plan(SetupRequest(required_role=booster)).values == {"required_role_id": 5}


def test_create_reuses_the_configured_role_and_category_when_they_still_exist():
    fresh = plan(SetupRequest(create_access_role=True, create_category=True))
    assert fresh.create_access_role and fresh.create_category
    assert fresh.values == {}
    again = plan(SetupRequest(create_access_role=True, existing_access_role=ROLE,
                              create_category=True, existing_category_id=7))
    assert not again.create_access_role and not again.create_category
    assert again.values == {}
    assert any("Kept the existing Coaching Access role `Students`" in n for n in again.notes)
    assert any("Kept the existing session category" in n for n in again.notes)
    with_value = fresh.with_value("access_role_id", 55)
    assert with_value.values == {"access_role_id": 55}
    assert with_value.create_access_role


def test_reused_role_that_moved_above_the_bot_is_refused():
    too_high = RoleFacts(5, "Coaching Access", below_bot=False)
    with pytest.raises(InvalidInput, match="Move my role above it"):
        plan(SetupRequest(create_access_role=True, existing_access_role=too_high))


def test_clear_unsets_optional_settings():
    result = plan(SetupRequest(clear=frozenset({"log_channel", "required_role"})))
    assert result.values == {"log_channel_id": None, "required_role_id": None}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=12))
def test_any_typed_currency_is_normalised_or_refused_with_a_message(text):
    try:
        result = plan(SetupRequest(currency=text))
    except InvalidInput as error:
        assert "3-letter ISO code" in error.user_message
        assert len(error.user_message) < 200
    else:
        code = result.values["currency"]
        assert len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


@settings(max_examples=150, deadline=None)
@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6))
def test_any_policy_numbers_are_accepted_only_in_range(hours, percent):
    try:
        result = plan(SetupRequest(cancel_notice_hours=hours, refund_percent=percent))
    except InvalidInput:
        assert not (0 <= hours <= 1440 and 0 <= percent <= 100)
    else:
        assert 0 <= hours <= 1440 and 0 <= percent <= 100
        assert result.values["default_policy"]["tiers"] == [
            {"min_notice_hours": hours, "refund_percent": percent}]


# ---------------------------------------------------------------- applying


async def test_apply_writes_changed_settings_and_one_audit_entry():
    uow = FakeUow()
    result = await svc.apply_setup(uow, guild_id=GUILD, actor_id=ADMIN, now=NOW,
                                   values={"currency": "EUR", "access_role_id": 101})
    assert result.changed == ("access_role_id", "currency")
    assert result.before == ServerConfig(GUILD)
    assert (result.after.currency, result.after.access_role_id) == ("EUR", 101)
    assert uow.guild_settings.rows[GUILD].currency == "EUR"
    assert uow.audit.entries == [{
        "guild_id": GUILD, "actor_id": ADMIN, "action": "setup", "at": NOW,
        "before": {"access_role_id": None, "currency": "USD"},
        "after": {"access_role_id": 101, "currency": "EUR"},
    }]
    note = result.audit
    assert note is not None and note.action == "setup" and note.at == NOW
    assert note.summary == "Changed the server setup: Coaching Access role, Currency."
    assert note.log_channel_id is None


async def test_apply_without_a_difference_writes_nothing():
    uow = FakeUow()
    result = await svc.apply_setup(uow, guild_id=GUILD, actor_id=ADMIN, now=NOW,
                                   values={"currency": "USD", "log_channel_id": None})
    assert result.changed == ()
    assert result.audit is None
    assert uow.guild_settings.rows == {}
    assert uow.audit.entries == []


async def test_policy_change_is_audited_as_the_whole_policy():
    uow = FakeUow()
    new = make_policy([(48, 50)]).to_dict()
    result = await svc.apply_setup(uow, guild_id=GUILD, actor_id=ADMIN, now=NOW,
                                   values={"default_policy": new})
    assert uow.audit.entries[0]["before"] == {"default_policy": DEFAULT_POLICY.to_dict()}
    assert uow.audit.entries[0]["after"] == {"default_policy": new}
    assert result.after.policy == make_policy([(48, 50)])


async def test_audit_goes_to_the_new_log_channel_or_the_old_one_when_cleared():
    uow = FakeUow()
    first = await svc.apply_setup(uow, guild_id=GUILD, actor_id=ADMIN, now=NOW,
                                  values={"log_channel_id": 900})
    assert first.audit.log_channel_id == 900
    cleared = await svc.apply_setup(uow, guild_id=GUILD, actor_id=ADMIN, now=NOW,
                                    values={"log_channel_id": None})
    assert cleared.audit.log_channel_id == 900
    assert cleared.after.log_channel_id is None


async def test_apply_refuses_unknown_keys():
    with pytest.raises(ValueError, match="jitsi_base_url"):
        await svc.apply_setup(FakeUow(), guild_id=GUILD, actor_id=ADMIN, now=NOW,
                              values={"jitsi_base_url": "https://meet.example"})


# ---------------------------------------------------------------- coach grants


async def test_adding_a_coach_twice_changes_and_audits_once():
    uow = FakeUow()
    await uow.guild_settings.update(GUILD, log_channel_id=900)
    first = await svc.add_coach(uow, guild_id=GUILD, actor_id=ADMIN, kind="member",
                                target_id=7, now=NOW)
    again = await svc.add_coach(uow, guild_id=GUILD, actor_id=ADMIN, kind="member",
                                target_id=7, now=NOW)
    assert first.changed and not again.changed and again.audit is None
    assert first.audit.after == {"coach_member_id": 7} and first.audit.before is None
    assert first.audit.log_channel_id == 900
    assert [e["action"] for e in uow.audit.entries] == ["coaches.add"]


async def test_removing_a_coach_who_is_not_one_writes_nothing():
    uow = FakeUow()
    missing = await svc.remove_coach(uow, guild_id=GUILD, actor_id=ADMIN, kind="role",
                                     target_id=5, now=NOW)
    assert not missing.changed and uow.audit.entries == []
    await svc.add_coach(uow, guild_id=GUILD, actor_id=ADMIN, kind="role", target_id=5, now=NOW)
    removed = await svc.remove_coach(uow, guild_id=GUILD, actor_id=ADMIN, kind="role",
                                     target_id=5, now=NOW)
    assert removed.changed
    assert removed.audit.before == {"coach_role_id": 5} and removed.audit.after is None
    assert removed.audit.summary == "Removed a role's coach rights."
    assert uow.coach_grants.grants == []


async def test_roster_lists_members_roles_and_profile_names():
    uow = FakeUow()
    for kind, target in [("member", 7), ("role", 5), ("member", 8)]:
        await svc.add_coach(uow, guild_id=GUILD, actor_id=ADMIN, kind=kind, target_id=target,
                            now=NOW)
    uow.coaches.profiles = [Profile(7, "Ada"), Profile(9, "Bo")]
    roster = await svc.coach_roster(uow, GUILD)
    assert roster.member_ids == (7, 8)
    assert roster.role_ids == (5,)
    assert roster.profile_names == {7: "Ada", 9: "Bo"}
    assert roster.profiles_through_roles() == [(9, "Bo")]


async def test_unknown_grant_kind_is_a_bug():
    with pytest.raises(ValueError):
        await svc.add_coach(FakeUow(), guild_id=GUILD, actor_id=ADMIN, kind="channel",
                            target_id=1, now=NOW)
