"""Schedule and coach-profile repository methods behind `/availability` and `/coach profile`,
on SQLite and PostgreSQL."""

from datetime import date

import pytest

from tests.storage.factories import add_coach

DAY = date(2030, 3, 4)


async def _schedule(uow, *, timezone="Europe/Berlin"):
    coach = await add_coach(uow)
    return coach, await uow.schedules.create(coach_id=coach.id, name="default",
                                             timezone=timezone, is_default=True)


def _spans(rows):
    return [(r.weekday, r.start_minute, r.end_minute) for r in rows]


async def test_replace_windows_touches_only_that_weekday(uow_factory):
    async with uow_factory() as uow:
        _, schedule = await _schedule(uow)
        await uow.schedules.replace_windows(schedule.id, 0, [(540, 720), (780, 1020)])
        await uow.schedules.replace_windows(schedule.id, 2, [(600, 660)])
        await uow.commit()
    async with uow_factory() as uow:
        await uow.schedules.replace_windows(schedule.id, 0, [(480, 1440)])
        await uow.commit()
    async with uow_factory() as uow:
        assert _spans(await uow.schedules.windows(schedule.id)) == [
            (0, 480, 1440), (2, 600, 660)]
        assert _spans(await uow.schedules.windows(schedule.id, 2)) == [(2, 600, 660)]
        assert await uow.schedules.windows(schedule.id, 5) == []


async def test_clear_windows_counts_what_it_deleted(uow_factory):
    async with uow_factory() as uow:
        _, schedule = await _schedule(uow)
        await uow.schedules.replace_windows(schedule.id, 0, [(540, 720), (780, 1020)])
        await uow.schedules.replace_windows(schedule.id, 1, [(540, 720)])
        assert await uow.schedules.clear_windows(schedule.id, 0) == 2
        assert await uow.schedules.clear_windows(schedule.id, 0) == 0
        assert _spans(await uow.schedules.windows(schedule.id)) == [(1, 540, 720)]
        assert await uow.schedules.clear_windows(schedule.id) == 1
        assert await uow.schedules.windows(schedule.id) == []
        await uow.commit()


async def test_overrides_replace_block_and_remove_one_date(uow_factory):
    other_day = date(2030, 3, 6)
    async with uow_factory() as uow:
        _, schedule = await _schedule(uow)
        await uow.schedules.replace_overrides(schedule.id, DAY, [(600, 720), (780, 840)])
        await uow.schedules.replace_overrides(schedule.id, other_day, None)
        await uow.commit()
    async with uow_factory() as uow:
        rows = await uow.schedules.overrides(schedule.id)
        assert [(r.day, r.start_minute, r.end_minute) for r in rows] == [
            (DAY, 600, 720), (DAY, 780, 840), (other_day, None, None)]
        only = await uow.schedules.overrides(schedule.id, day=other_day)
        assert [(r.start_minute, r.end_minute) for r in only] == [(None, None)]
        later = await uow.schedules.overrides(schedule.id, since=date(2030, 3, 5))
        assert [r.day for r in later] == [other_day]
        # Blocking a day with hours replaces them; giving a blocked day hours unblocks it.
        await uow.schedules.replace_overrides(schedule.id, DAY, None)
        await uow.schedules.replace_overrides(schedule.id, other_day, [(60, 120)])
        await uow.commit()
    async with uow_factory() as uow:
        rows = await uow.schedules.overrides(schedule.id)
        assert [(r.day, r.start_minute, r.end_minute) for r in rows] == [
            (DAY, None, None), (other_day, 60, 120)]
        assert await uow.schedules.remove_overrides(schedule.id, DAY) == 1
        assert await uow.schedules.remove_overrides(schedule.id, DAY) == 0
        await uow.commit()
    async with uow_factory() as uow:
        assert [r.day for r in await uow.schedules.overrides(schedule.id)] == [other_day]


async def test_set_timezone_and_lock(uow_factory):
    async with uow_factory() as uow:
        _, schedule = await _schedule(uow)
        await uow.schedules.lock(schedule.id)
        await uow.schedules.set_timezone(schedule.id, "Asia/Tokyo")
        with pytest.raises(LookupError):
            await uow.schedules.set_timezone(schedule.id + 1000, "UTC")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.schedules.get(schedule.id)
        assert stored is not None
        assert stored.timezone == "Asia/Tokyo"


async def test_windows_outside_a_day_are_refused_by_the_database(uow_factory):
    from sqlalchemy.exc import IntegrityError

    async with uow_factory() as uow:
        _, schedule = await _schedule(uow)
        with pytest.raises(IntegrityError):
            await uow.schedules.replace_windows(schedule.id, 0, [(600, 1441)])


async def test_update_profile_writes_profile_fields_only(uow_factory):
    async with uow_factory() as uow:
        coach = await add_coach(uow)
        specialties = ["Poetry"]
        await uow.coaches.update_profile(
            coach, display_name="Ada L.", bio="Hi @everyone", specialties=specialties,
            hourly_rate_minor=4_050, currency="EUR", years_experience=12,
            credentials="MFA", timezone="Europe/Paris", avatar_url="https://x.test/a.png")
        specialties.append("mutated after saving")
        with pytest.raises(ValueError, match="rating_sum"):
            await uow.coaches.update_profile(coach, rating_sum=5)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.coaches.get(coach.id)
        assert stored is not None
        assert (stored.display_name, stored.bio, stored.specialties) == (
            "Ada L.", "Hi @everyone", ["Poetry"])
        assert (stored.hourly_rate_minor, stored.currency, stored.years_experience) == (
            4_050, "EUR", 12)
        assert (stored.credentials, stored.timezone, stored.avatar_url) == (
            "MFA", "Europe/Paris", "https://x.test/a.png")
        assert stored.rating_sum == 0
        await uow.coaches.update_profile(stored, specialties=["Poetry", "Fiction"])
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.coaches.get(coach.id)
        assert stored.specialties == ["Poetry", "Fiction"]
