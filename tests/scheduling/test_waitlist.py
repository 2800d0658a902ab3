"""`scheduling.waitlist` on SQLite and PostgreSQL: who is offered a freed time (order, offering,
window), the 15-minute reservation, passing, timing out, leaving and settling a claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduling import waitlist as service
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tests.cogs.booking_seed import create_coach, create_offering

GUILD = 1
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
STUDENT, OTHER, THIRD, COACH_USER = 700, 701, 702, 500
M = timedelta(minutes=1)


async def seed(uow_factory):
    coach = await create_coach(uow_factory, GUILD, COACH_USER, name="Carla")
    intro = await create_offering(uow_factory, coach, title="Intro")
    deep = await create_offering(uow_factory, coach, title="Deep dive")
    return coach, intro, deep


async def join(uow_factory, coach, student, offering=None, days=14, at=NOW):
    return await service.join(uow_factory, guild_id=GUILD, student_id=student,
                              coach_id=coach.id, coach_user_id=COACH_USER,
                              offering_id=offering.id if offering else None, days=days, now=at)


async def statuses(uow_factory):
    async with uow_factory() as uow:
        rows = []
        for student in (STUDENT, OTHER, THIRD):
            rows += await uow.waitlist.active_of_student(GUILD, student)
        return {r.student_id: r.status for r in rows}


async def test_the_first_matching_student_is_offered_and_the_time_is_kept(uow_factory):
    coach, intro, deep = await seed(uow_factory)
    await join(uow_factory, coach, STUDENT, deep)  # another offering: skipped
    await join(uow_factory, coach, OTHER, days=1, at=NOW + M)  # window too short: skipped
    await join(uow_factory, coach, THIRD, at=NOW + 2 * M)

    offer = await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW)

    assert offer is not None
    assert (offer.student_id, offer.offering_id, offer.title, offer.coach_name) == (
        THIRD, intro.id, "Intro", "Carla")
    assert offer.expires_at == NOW + 15 * M
    # Kept for THIRD: nobody else is offered it meanwhile.
    assert await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW) is None


async def test_pass_and_timeout_move_on_to_the_next_student(uow_factory):
    coach, intro, _ = await seed(uow_factory)
    first = await join(uow_factory, coach, STUDENT)
    await join(uow_factory, coach, OTHER, at=NOW + M)
    await join(uow_factory, coach, THIRD, at=NOW + 2 * M)
    await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW)

    with pytest.raises(NotAllowed):
        await service.pass_offer(uow_factory, first.id, OTHER, TUE_10, now=NOW)
    freed = await service.pass_offer(uow_factory, first.id, STUDENT, TUE_10, now=NOW)
    assert freed == service.Freed(coach.id, intro.id, TUE_10)
    offer = await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW)
    assert offer is not None and offer.student_id == OTHER

    assert await service.expire_offers(uow_factory, now=NOW + 14 * M) == []
    assert await service.expire_offers(uow_factory, now=NOW + 15 * M) == [freed]
    offer = await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10,
                                      now=NOW + 15 * M)
    assert offer is not None and offer.student_id == THIRD
    assert await statuses(uow_factory) == {THIRD: "offered"}
    with pytest.raises(Conflict):
        await service.claim_offer(uow_factory, first.id, STUDENT, TUE_10, now=NOW)


async def test_claim_settles_booked_or_back_to_waiting(uow_factory):
    coach, intro, _ = await seed(uow_factory)
    entry = await join(uow_factory, coach, STUDENT)
    await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW)

    claim = await service.claim_offer(uow_factory, entry.id, STUDENT, TUE_10, now=NOW + M)
    assert (claim.offering_id, claim.start, claim.paid) == (intro.id, TUE_10, False)
    await service.settle_claim(uow_factory, entry.id, booked=False)
    assert await statuses(uow_factory) == {STUDENT: "waiting"}

    await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW)
    await service.settle_claim(uow_factory, entry.id, booked=True)
    assert await statuses(uow_factory) == {}


async def test_join_refusals_and_leave(uow_factory):
    coach, intro, _ = await seed(uow_factory)
    with pytest.raises(InvalidInput):
        await join(uow_factory, coach, STUDENT, days=0)
    with pytest.raises(InvalidInput):
        await join(uow_factory, coach, COACH_USER)
    await join(uow_factory, coach, STUDENT)
    with pytest.raises(Conflict):
        await join(uow_factory, coach, STUDENT)
    await join(uow_factory, coach, STUDENT, intro)  # one offering besides "any" is fine
    await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW)

    count, freed = await service.leave(uow_factory, GUILD, STUDENT)

    assert (count, freed) == (2, [service.Freed(coach.id, intro.id, TUE_10)])
    with pytest.raises(NotFound):
        await service.leave(uow_factory, GUILD, STUDENT)


async def test_a_past_time_is_not_offered(uow_factory):
    coach, intro, _ = await seed(uow_factory)
    await join(uow_factory, coach, STUDENT)
    assert await service.offer_freed(uow_factory, coach.id, intro.id, NOW - M, now=NOW) is None


async def test_a_time_taken_again_is_not_offered(uow_factory):
    from tests.cogs.booking_seed import insert_booking

    coach, intro, _ = await seed(uow_factory)
    await join(uow_factory, coach, STUDENT)
    await insert_booking(uow_factory, intro, OTHER, TUE_10)
    assert await service.offer_freed(uow_factory, coach.id, intro.id, TUE_10, now=NOW) is None
    assert await statuses(uow_factory) == {STUDENT: "waiting"}
