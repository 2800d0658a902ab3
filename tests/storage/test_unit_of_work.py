"""The unit of work: commit writes, anything else rolls back; immediate transactions on SQLite
and coach locks on PostgreSQL serialise check-then-write sequences."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.models import AuditEntry, Booking, Coach, Offering
from storage.uow import UnitOfWork, make_session_factory
from tests.storage.factories import (
    GUILD_ID,
    START,
    add_coach,
    make_booking,
    seed_coach_and_offering,
)

HOLD = 0.3  # seconds the first unit of work keeps its transaction open


async def count(uow: UnitOfWork, model: type) -> int:
    return await uow.session.scalar(select(func.count()).select_from(model))


async def test_leaving_without_commit_writes_nothing(uow_factory):
    async with uow_factory() as uow:
        await add_coach(uow)
        await uow.audit.add(guild_id=GUILD_ID, actor_id=1, action="coach.create")
        await uow.guild_settings.get_or_create(GUILD_ID)

    async with uow_factory() as uow:
        assert await count(uow, Coach) == 0
        assert await count(uow, AuditEntry) == 0
        assert await uow.guild_settings.get(GUILD_ID) is None


async def test_an_exception_rolls_back_and_propagates(uow_factory):
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await add_coach(uow)
            raise RuntimeError("boom")

    async with uow_factory() as uow:
        assert await count(uow, Coach) == 0


async def test_commit_writes_and_later_changes_roll_back(uow_factory):
    async with uow_factory() as uow:
        coach = await add_coach(uow)
        await uow.commit()
        assert coach.display_name == "Ada"  # still readable after commit
        await add_coach(uow, user_id=2002, name="Grace")

    async with uow_factory() as uow:
        coaches = await uow.coaches.list_for_guild(GUILD_ID)
        assert [c.display_name for c in coaches] == ["Ada"]


async def test_explicit_rollback_discards_changes(uow_factory):
    async with uow_factory() as uow:
        await add_coach(uow)
        await uow.rollback()
        await add_coach(uow, user_id=2002, name="Grace")
        await uow.commit()

    async with uow_factory() as uow:
        assert [c.display_name for c in await uow.coaches.list_for_guild(GUILD_ID)] == ["Grace"]


async def test_immediate_is_accepted_on_every_backend(uow_factory):
    async with uow_factory(immediate=True) as uow:
        await add_coach(uow)
        await uow.commit()
    async with uow_factory() as uow:
        assert await count(uow, Coach) == 1


async def test_misuse_is_reported(uow_factory):
    uow = uow_factory()
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session
    async with uow:
        with pytest.raises(RuntimeError, match="only be entered once"):
            await uow.__aenter__()


@pytest.fixture
async def sqlite_factory(sqlite_url) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    await migrate_engine(engine)
    yield make_session_factory(engine)
    await engine.dispose()


async def _record_overlapping_transactions(
    factory: async_sessionmaker[AsyncSession], *, immediate: bool
) -> list[str]:
    events: list[str] = []
    first_started = asyncio.Event()

    async def first() -> None:
        async with UnitOfWork(factory, immediate=immediate) as uow:
            await uow.session.execute(select(1))
            events.append("first began")
            first_started.set()
            await asyncio.sleep(HOLD)
            await uow.audit.add(guild_id=GUILD_ID, actor_id=1, action="first")
            events.append("first committed")
            await uow.commit()

    async def second() -> None:
        await first_started.wait()
        async with UnitOfWork(factory, immediate=immediate) as uow:
            await uow.session.execute(select(1))
            events.append("second began")
            await uow.audit.add(guild_id=GUILD_ID, actor_id=2, action="second")
            await uow.commit()

    await asyncio.wait_for(asyncio.gather(first(), second()), timeout=10)
    return events


async def test_immediate_units_of_work_serialise_on_sqlite(sqlite_factory):
    events = await _record_overlapping_transactions(sqlite_factory, immediate=True)
    assert events == ["first began", "first committed", "second began"]


async def test_deferred_units_of_work_do_not_serialise_on_sqlite(sqlite_factory):
    # The control for the test above: without BEGIN IMMEDIATE both transactions are open at once.
    events = await _record_overlapping_transactions(sqlite_factory, immediate=False)
    assert events == ["first began", "second began", "first committed"]


async def _try_to_book(
    factory: async_sessionmaker[AsyncSession], offering: Offering, student_id: int, *, lock: bool
) -> bool:
    """The booking service's check-then-insert, slowed down to widen the race window."""
    async with UnitOfWork(factory, immediate=True) as uow:
        if lock:
            await uow.bookings.lock_coach(offering.coach_id)
        end = START + timedelta(hours=1)
        if await uow.bookings.overlapping_active(offering.coach_id, START, end):
            return False
        await asyncio.sleep(0.1)
        await uow.bookings.add(make_booking(offering, student_id=student_id))
        await uow.commit()
        return True


async def test_concurrent_bookings_of_one_slot_leave_one_booking_on_sqlite(sqlite_factory):
    async with UnitOfWork(sqlite_factory) as uow:
        _, offering = await seed_coach_and_offering(uow)
        await uow.commit()

    results = await asyncio.gather(
        *(_try_to_book(sqlite_factory, offering, 3000 + n, lock=False) for n in range(4))
    )

    assert sorted(results) == [False, False, False, True]
    async with UnitOfWork(sqlite_factory) as uow:
        assert await count(uow, Booking) == 1


async def test_coach_lock_serialises_bookings_on_postgres(postgres_url):
    engine = create_engine(postgres_url)
    try:
        await migrate_engine(engine)
        factory = make_session_factory(engine)
        async with UnitOfWork(factory) as uow:
            _, offering = await seed_coach_and_offering(uow)
            await uow.commit()

        results = await asyncio.gather(
            *(_try_to_book(factory, offering, 3000 + n, lock=True) for n in range(4))
        )

        assert sorted(results) == [False, False, False, True]
        async with UnitOfWork(factory) as uow:
            assert await count(uow, Booking) == 1
    finally:
        await engine.dispose()
