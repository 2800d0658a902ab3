"""Repositories behind server setup, coach access, schedules and offerings, on both backends."""

import pytest

from scheduling.coach_access import NOT_A_COACH, require_coach
from scheduling.errors import NotAllowed

GUILD = 111


async def test_coach_grants_add_is_idempotent_and_remove_reports(uow_factory):
    async with uow_factory() as uow:
        assert await uow.coach_grants.add(GUILD, "member", 5)
        assert not await uow.coach_grants.add(GUILD, "member", 5)
        assert await uow.coach_grants.add(GUILD, "role", 9)
        await uow.commit()
    async with uow_factory() as uow:
        grants = await uow.coach_grants.list_for_guild(GUILD)
        assert [(g.kind, g.target_id) for g in grants] == [("member", 5), ("role", 9)]
        assert await uow.coach_grants.remove(GUILD, "member", 5)
        assert not await uow.coach_grants.remove(GUILD, "member", 5)
        await uow.commit()
    async with uow_factory() as uow:
        assert [g.target_id for g in await uow.coach_grants.list_for_guild(GUILD)] == [9]


async def test_require_coach_refuses_without_grant_and_creates_profile_once(uow_factory):
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed) as info:
            await require_coach(uow, guild_id=GUILD, user_id=7, role_ids=[], display_name="Ann")
        assert info.value.user_message == NOT_A_COACH
        await uow.coach_grants.add(GUILD, "role", 42)
        coach = await require_coach(uow, guild_id=GUILD, user_id=7, role_ids=[42],
                                    display_name="Ann")
        again = await require_coach(uow, guild_id=GUILD, user_id=7, role_ids=[42],
                                    display_name="Ann")
        assert coach.id == again.id
        assert coach.display_name == "Ann"
        await uow.commit()


async def test_schedules_and_offerings_round_trip(uow_factory):
    async with uow_factory() as uow:
        coach = await uow.coaches.create(guild_id=GUILD, user_id=8, display_name="Bo",
                                         timezone="Europe/Berlin")
        default = await uow.schedules.create(coach_id=coach.id, name="default",
                                             timezone="Europe/Berlin", is_default=True)
        await uow.schedules.create(coach_id=coach.id, name="evenings", timezone="Europe/Berlin")
        offering = await uow.offerings.create(guild_id=GUILD, coach_id=coach.id,
                                              schedule_id=default.id, title="Essay review")
        await uow.commit()
    async with uow_factory() as uow:
        names = [s.name for s in await uow.schedules.list_for_coach(coach.id)]
        assert names == ["default", "evenings"]
        assert (await uow.schedules.get_by_name(coach.id, "evenings")) is not None
        assert await uow.schedules.windows(default.id) == []
        stored = await uow.offerings.get(offering.id)
        assert stored is not None
        assert stored.status == "draft"
        assert [o.id for o in await uow.offerings.list_for_coach(coach.id)] == [offering.id]
        assert await uow.offerings.questions(offering.id) == []


async def test_resolve_schedule_creates_default_on_first_use_only(uow_factory):
    from scheduling.errors import NotFound
    from scheduling.schedules import resolve_schedule

    async with uow_factory() as uow:
        coach = await uow.coaches.create(guild_id=GUILD, user_id=9, display_name="Cy",
                                         timezone="Asia/Kolkata")
        default = await resolve_schedule(uow, coach, None)
        assert (default.name, default.timezone, default.is_default) == (
            "default", "Asia/Kolkata", True)
        assert (await resolve_schedule(uow, coach, "  Default ")).id == default.id
        with pytest.raises(NotFound, match="no schedule called `evenings`"):
            await resolve_schedule(uow, coach, "Evenings")
        await resolve_schedule(uow, coach, "weekends", create=True)
        with pytest.raises(NotFound, match="Your schedules: default, weekends"):
            await resolve_schedule(uow, coach, "Evenings")
        evenings = await resolve_schedule(uow, coach, "Evenings", create=True)
        assert (evenings.name, evenings.is_default) == ("evenings", False)
        await uow.commit()
