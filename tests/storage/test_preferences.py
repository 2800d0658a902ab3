"""Member preferences on SQLite and PostgreSQL: created on first use, updated in place, JSON
stored by value; and the migration that adds the table."""

import pytest
from sqlalchemy import select

from storage.models import MemberPreferences

USER = 123456789012345678  # a real-sized Discord id: needs a BIGINT


async def test_unknown_member_has_no_preferences(uow_factory):
    async with uow_factory() as uow:
        assert await uow.preferences.get(USER) is None
        assert await uow.preferences.timezone_of(USER) is None


async def test_setting_a_timezone_creates_the_row_with_defaults(uow_factory):
    async with uow_factory() as uow:
        await uow.preferences.set_timezone(USER, "Europe/Berlin")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.preferences.get(USER)
        assert (stored.timezone, stored.reminders_enabled, stored.reminder_offsets_minutes) == (
            "Europe/Berlin", True, None)
        assert stored.updated_at.tzinfo is not None
        assert await uow.preferences.timezone_of(USER) == "Europe/Berlin"


async def test_updates_change_the_same_row(uow_factory):
    async with uow_factory() as uow:
        await uow.preferences.set_timezone(USER, "Asia/Tokyo")
        await uow.commit()
    offsets = [1440, 30]
    async with uow_factory() as uow:
        await uow.preferences.update(USER, timezone="UTC", reminders_enabled=False,
                                     reminder_offsets_minutes=offsets)
        offsets.append(5)  # the caller's list is not the stored one
        await uow.commit()
    async with uow_factory() as uow:
        rows = list(await uow.session.scalars(select(MemberPreferences)))
        assert len(rows) == 1
        stored = await uow.preferences.get(USER)
        assert (stored.timezone, stored.reminders_enabled, stored.reminder_offsets_minutes) == (
            "UTC", False, [1440, 30])


async def test_get_or_create_is_idempotent(uow_factory):
    async with uow_factory() as uow:
        first = await uow.preferences.get_or_create(USER)
        second = await uow.preferences.get_or_create(USER)
        assert first is second
        await uow.commit()


async def test_forgetting_the_timezone(uow_factory):
    async with uow_factory() as uow:
        await uow.preferences.set_timezone(USER, "Asia/Tokyo")
        await uow.preferences.set_timezone(USER, None)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.preferences.timezone_of(USER) is None


async def test_only_preference_columns_can_be_updated(uow_factory):
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="updated_at"):
            await uow.preferences.update(USER, updated_at=None)


async def test_nothing_is_written_without_commit(uow_factory):
    async with uow_factory() as uow:
        await uow.preferences.set_timezone(USER, "Asia/Tokyo")
    async with uow_factory() as uow:
        assert await uow.preferences.get(USER) is None
