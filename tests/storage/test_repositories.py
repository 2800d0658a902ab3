"""Repository behaviour on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.models import AuditEntry, Coach
from storage.models.values import default_policy
from storage.uow import UnitOfWork, make_session_factory
from tests.storage.factories import (
    GUILD_ID,
    START,
    add_coach,
    add_offering,
    make_booking,
    seed_coach_and_offering,
)

OTHER_GUILD = GUILD_ID + 1


async def test_guild_settings_are_created_once_with_defaults(uow_factory):
    async with uow_factory() as uow:
        assert await uow.guild_settings.get(GUILD_ID) is None
        created = await uow.guild_settings.get_or_create(GUILD_ID)
        again = await uow.guild_settings.get_or_create(GUILD_ID)
        assert again is created
        await uow.commit()

    async with uow_factory() as uow:
        settings = await uow.guild_settings.get_or_create(GUILD_ID)
        assert settings.guild_id == GUILD_ID
        assert settings.currency == "USD"
        assert settings.default_policy == default_policy()
        assert settings.platform_fee_percent == 0
        assert settings.referral_commission_percent == 0
        assert settings.channel_retention_days == 7
        assert settings.access_role_id is None
        assert settings.jitsi_base_url is None
        assert settings.created_at.tzinfo is UTC


async def test_guild_settings_get_or_create_tolerates_a_concurrent_creator_on_postgres(
    postgres_url,
):
    # On SQLite the same race is prevented, not tolerated: writers run one at a time and a
    # deferred reader cannot later write, so a unit of work that creates should be immediate.
    engine = create_engine(postgres_url)
    try:
        await migrate_engine(engine)
        factory = make_session_factory(engine)
        async with UnitOfWork(factory) as first, UnitOfWork(factory) as second:
            assert await second.guild_settings.get(GUILD_ID) is None
            await first.guild_settings.get_or_create(GUILD_ID)
            await first.commit()
            settings = await second.guild_settings.get_or_create(GUILD_ID)
            assert settings.guild_id == GUILD_ID
            await second.commit()
    finally:
        await engine.dispose()


async def test_guild_settings_changes_are_saved(uow_factory):
    async with uow_factory() as uow:
        settings = await uow.guild_settings.get_or_create(GUILD_ID)
        settings.currency = "EUR"
        settings.access_role_id = 123456789012345678
        await uow.commit()

    async with uow_factory() as uow:
        settings = await uow.guild_settings.get(GUILD_ID)
        assert settings is not None
        assert (settings.currency, settings.access_role_id) == ("EUR", 123456789012345678)


async def test_coaches_are_found_by_member_and_listed_per_guild(uow_factory):
    async with uow_factory() as uow:
        ada = await add_coach(uow, 1, name="Ada")
        assert ada.id is not None
        await add_coach(uow, 2, name="Charles")
        await add_coach(uow, 3, name="Barbara")
        await uow.coaches.add(Coach(guild_id=OTHER_GUILD, user_id=1, display_name="Elsewhere"))
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.coaches.get_by_user(GUILD_ID, 1)
        assert found is not None
        assert found.display_name == "Ada"
        assert found.specialties == []
        assert found.rating_count == 0
        assert found.currency == "USD"
        assert await uow.coaches.get_by_user(GUILD_ID, 99) is None
        names = [coach.display_name for coach in await uow.coaches.list_for_guild(GUILD_ID)]
        assert names == ["Ada", "Barbara", "Charles"]
        assert await uow.coaches.list_for_guild(42) == []


async def test_a_member_is_a_coach_at_most_once_per_guild(uow_factory):
    async with uow_factory() as uow:
        await add_coach(uow, 1)
        with pytest.raises(IntegrityError):
            await add_coach(uow, 1, name="Ada again")


async def test_coach_json_fields_round_trip(uow_factory):
    async with uow_factory() as uow:
        coach = Coach(
            guild_id=GUILD_ID,
            user_id=7,
            display_name="Ada",
            specialties=["fiction", "query letters"],
            hourly_rate_minor=12_000,
            currency="GBP",
        )
        await uow.coaches.add(coach)
        await uow.commit()

    async with uow_factory() as uow:
        uow.session.expunge_all()
        loaded = await uow.coaches.get_by_user(GUILD_ID, 7)
        assert loaded is not None
        assert loaded.specialties == ["fiction", "query letters"]
        assert loaded.hourly_rate_minor == 12_000


async def test_audit_entries_keep_before_and_after(uow_factory):
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with uow_factory() as uow:
        entry = await uow.audit.add(
            guild_id=GUILD_ID,
            actor_id=77,
            action="settings.currency",
            before={"currency": "USD"},
            after={"currency": "EUR"},
            at=at,
        )
        assert entry.id is not None
        default_time = await uow.audit.add(guild_id=GUILD_ID, actor_id=77, action="setup")
        assert default_time.at.tzinfo is not None
        await uow.commit()

    async with uow_factory() as uow:
        entries = list(await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [(e.action, e.before, e.after) for e in entries] == [
            ("settings.currency", {"currency": "USD"}, {"currency": "EUR"}),
            ("setup", None, None),
        ]
        assert entries[0].at == at


async def test_bookings_are_added_and_read_back(uow_factory):
    async with uow_factory() as uow:
        _, offering = await seed_coach_and_offering(uow)
        booking = make_booking(offering, status="pending_payment")
        booking.answers = [{"label": "Genre?", "answer": "Fantasy"}]
        await uow.bookings.add(booking)
        assert booking.id is not None
        assert booking.slot_key.startswith("b:")
        await uow.commit()

    async with uow_factory() as uow:
        uow.session.expunge_all()
        loaded = await uow.bookings.get(booking.id)
        assert loaded is not None
        assert loaded.status == "pending_payment"
        assert loaded.expires_at == START - timedelta(hours=1)
        assert loaded.answers == [{"label": "Genre?", "answer": "Fantasy"}]
        assert loaded.reschedule_count == 0
        assert await uow.bookings.get(booking.id + 1000) is None


async def test_overlapping_active_finds_only_active_overlaps_of_that_coach(uow_factory):
    hour = timedelta(hours=1)
    async with uow_factory() as uow:
        coach, offering = await seed_coach_and_offering(uow)
        other_coach = await add_coach(uow, 5555, name="Other")
        other_offering = await add_offering(uow, other_coach)
        inside = make_booking(offering, start=START, status="confirmed")
        held = make_booking(offering, start=START + hour, status="pending_payment")
        running = make_booking(offering, start=START - hour, status="in_progress")
        for booking in (inside, held, running):
            await uow.bookings.add(booking)
        for status in ("cancelled", "expired", "completed", "no_show_student", "no_show_coach"):
            await uow.bookings.add(make_booking(offering, start=START, status=status))
        await uow.bookings.add(make_booking(other_offering, start=START))
        await uow.commit()

    async with uow_factory() as uow:
        half = hour / 2
        found = await uow.bookings.overlapping_active(coach.id, START - half, START + hour + half)
        assert [b.id for b in found] == [running.id, inside.id, held.id]
        # Ranges are half-open: touching is not overlapping.
        assert (
            await uow.bookings.overlapping_active(coach.id, START + 2 * hour, START + 3 * hour)
            == []
        )
        before = await uow.bookings.overlapping_active(coach.id, START - 2 * hour, START - hour)
        assert before == []
        just_in = await uow.bookings.overlapping_active(
            coach.id, START + 2 * hour - timedelta(minutes=1), START + 3 * hour
        )
        assert [b.id for b in just_in] == [held.id]
        with pytest.raises(ValueError, match="end must be after start"):
            await uow.bookings.overlapping_active(coach.id, START, START)


async def test_lock_coach_runs_in_a_transaction_on_every_backend(uow_factory):
    async with uow_factory(immediate=True) as uow:
        coach, _ = await seed_coach_and_offering(uow)
        await uow.bookings.lock_coach(coach.id)
        await uow.bookings.lock_coach(coach.id)  # re-entrant within one transaction
        await uow.commit()
