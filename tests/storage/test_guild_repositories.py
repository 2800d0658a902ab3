"""Guild settings, coach grants and the audit trail, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from scheduling.policy import make_policy
from storage.models.values import DEFAULT_CURRENCY, default_policy

GUILD = 900_000_000_000_000_123
OTHER = 900_000_000_000_000_456
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_update_creates_the_row_with_defaults_and_sets_only_what_is_given(uow_factory):
    policy = make_policy([(48, 50)], max_reschedules=2).to_dict()
    async with uow_factory() as uow:
        assert await uow.guild_settings.get(GUILD) is None
        await uow.guild_settings.update(GUILD, access_role_id=11, default_policy=policy)
        await uow.commit()
    async with uow_factory() as uow:
        row = await uow.guild_settings.get(GUILD)
        assert row is not None
        assert (row.access_role_id, row.category_id, row.log_channel_id) == (11, None, None)
        assert row.currency == DEFAULT_CURRENCY
        assert row.default_policy == policy
        await uow.guild_settings.update(GUILD, currency="EUR", access_role_id=None)
        await uow.commit()
    async with uow_factory() as uow:
        row = await uow.guild_settings.get(GUILD)
        assert (row.currency, row.access_role_id, row.default_policy) == ("EUR", None, policy)


async def test_update_replaces_the_json_policy_instead_of_mutating_it(uow_factory):
    async with uow_factory() as uow:
        row = await uow.guild_settings.get_or_create(GUILD)
        assert row.default_policy == default_policy()
        await uow.commit()
    new = make_policy([(12, 80)]).to_dict()
    async with uow_factory() as uow:
        await uow.guild_settings.update(GUILD, default_policy=new)
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.guild_settings.get(GUILD)).default_policy == new


async def test_update_refuses_columns_setup_does_not_own(uow_factory):
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="jitsi_base_url"):
            await uow.guild_settings.update(GUILD, jitsi_base_url="https://meet.example")
        assert await uow.guild_settings.get(GUILD) is None


async def test_count_paid_published_offerings_counts_only_paid_published_in_the_guild(
        uow_factory):
    async with uow_factory() as uow:
        assert await uow.guild_settings.count_paid_published_offerings(GUILD) == 0
        coach = await uow.coaches.create(guild_id=GUILD, user_id=1, display_name="Ada")
        other = await uow.coaches.create(guild_id=OTHER, user_id=1, display_name="Ada")
        for status, price in [("published", 2500), ("published", 100), ("published", 0),
                              ("draft", 2500), ("unpublished", 2500), ("deleted", 2500)]:
            await uow.offerings.create(guild_id=GUILD, coach_id=coach.id, title="x",
                                       status=status, price_minor=price)
        await uow.offerings.create(guild_id=OTHER, coach_id=other.id, title="x",
                                   status="published", price_minor=2500)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.guild_settings.count_paid_published_offerings(GUILD) == 2
        assert await uow.guild_settings.count_paid_published_offerings(OTHER) == 1


async def test_audit_entries_keep_before_and_after_and_list_newest_first(uow_factory):
    async with uow_factory() as uow:
        await uow.audit.add(guild_id=GUILD, actor_id=5, action="setup",
                            before={"currency": "USD"}, after={"currency": "EUR"}, at=AT)
        await uow.audit.add(guild_id=GUILD, actor_id=6, action="coaches.add", before=None,
                            after={"coach_member_id": 77}, at=AT + timedelta(minutes=1))
        await uow.audit.add(guild_id=OTHER, actor_id=5, action="setup", at=AT)
        await uow.commit()
    async with uow_factory() as uow:
        entries = await uow.audit.list_for_guild(GUILD)
        assert [(e.action, e.actor_id) for e in entries] == [("coaches.add", 6), ("setup", 5)]
        assert entries[0].before is None
        assert entries[0].after == {"coach_member_id": 77}
        assert entries[1].before == {"currency": "USD"}
        assert entries[1].after == {"currency": "EUR"}
        assert entries[1].at == AT
        assert len(await uow.audit.list_for_guild(GUILD, limit=1)) == 1


async def test_rolled_back_update_leaves_nothing(uow_factory):
    async with uow_factory() as uow:
        await uow.guild_settings.update(GUILD, currency="GBP")
        await uow.audit.add(guild_id=GUILD, actor_id=1, action="setup", at=AT)
    async with uow_factory() as uow:
        assert await uow.guild_settings.get(GUILD) is None
        assert await uow.audit.list_for_guild(GUILD) == []
