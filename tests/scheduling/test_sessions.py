"""A member's sessions (`scheduling.sessions`): which list a booking belongs to, its status,
how to join it, and paging, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from scheduling.sessions import item_for, join_link_of, sessions_page, status_text
from tests.cogs.booking_seed import create_coach, create_offering, insert_booking

GUILD = 1
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
STUDENT, OTHER, COACH_USER = 700, 701, 500


@dataclass(frozen=True)
class Record:
    booking_id: int = 1
    guild_id: int = GUILD
    status: str = "confirmed"
    start_at: datetime = NOW + 24 * H
    end_at: datetime = NOW + 25 * H
    student_id: int = STUDENT
    coach_user_id: int = COACH_USER
    coach_name: str = "Carla"
    offering_title: str = "Mock interview"
    session_type: str = "video"
    location_kind: str = "discord"
    text_channel_id: int | None = None
    voice_channel_id: int | None = None
    join_url: str | None = None


# ---------------------------------------------------------------- pure parts


def test_status_text():
    record = Record()
    assert status_text(record, NOW) == "Confirmed"
    assert status_text(record, NOW + 24.5 * H) == "In progress"
    assert status_text(record, NOW + 26 * H) == "Ended"
    assert status_text(replace(record, status="cancelled"), NOW) == "Cancelled"
    assert status_text(replace(record, status="no_show_coach"), NOW) == "Coach did not show up"
    assert status_text(replace(record, status="pending_payment"), NOW) == "Waiting for payment"


def test_join_link_prefers_the_meeting_link_then_the_voice_channel():
    record = Record(voice_channel_id=9)
    assert join_link_of(record, NOW) == f"https://discord.com/channels/{GUILD}/9"
    assert join_link_of(replace(record, join_url="https://meet.example/x"), NOW) == (
        "https://meet.example/x")
    assert join_link_of(Record(), NOW) is None
    assert join_link_of(record, NOW + 25 * H) is None  # over
    assert join_link_of(replace(record, status="cancelled"), NOW) is None
    assert join_link_of(replace(record, status="pending_payment"), NOW) is None


def test_item_as_student_and_as_coach():
    record = Record(text_channel_id=5, voice_channel_id=6)
    as_student = item_for(record, STUDENT, NOW)
    assert not as_student.as_coach
    assert as_student.with_text == f"Coach <@{COACH_USER}> (Carla)"
    assert as_student.where == "<#5> · <#6>"
    as_coach = item_for(record, COACH_USER, NOW)
    assert as_coach.as_coach and as_coach.with_text == f"Student <@{STUDENT}>"
    assert item_for(Record(), STUDENT, NOW).where is None


# ---------------------------------------------------------------- with storage


async def seed(uow_factory):
    coach = await create_coach(uow_factory, GUILD, COACH_USER, name="Carla")
    return await create_offering(uow_factory, coach)


async def page(uow_factory, user_id, *, upcoming=True, number=0, page_size=4, now=NOW):
    async with uow_factory() as uow:
        return await sessions_page(uow, guild_id=GUILD, user_id=user_id, upcoming=upcoming,
                                   page=number, now=now, page_size=page_size)


async def test_upcoming_and_past_for_student_and_coach(uow_factory):
    offering = await seed(uow_factory)
    soon = await insert_booking(uow_factory, offering, STUDENT, NOW + 24 * H)
    later = await insert_booking(uow_factory, offering, STUDENT, NOW + 48 * H)
    running = await insert_booking(uow_factory, offering, OTHER, NOW - H / 2)
    done = await insert_booking(uow_factory, offering, STUDENT, NOW - 3 * H, status="completed")
    ended = await insert_booking(uow_factory, offering, STUDENT, NOW - 2 * H)
    cancelled = await insert_booking(uow_factory, offering, STUDENT, NOW + 72 * H,
                                     status="cancelled")
    await insert_booking(uow_factory, offering, STUDENT, NOW + 96 * H, status="expired")

    upcoming = await page(uow_factory, STUDENT)
    assert [i.booking_id for i in upcoming.items] == [soon.id, later.id]
    past = await page(uow_factory, STUDENT, upcoming=False)
    assert [i.booking_id for i in past.items] == [cancelled.id, ended.id, done.id]
    assert [i.status for i in past.items] == ["Cancelled", "Ended", "Completed"]

    coaching = await page(uow_factory, COACH_USER)
    assert [i.booking_id for i in coaching.items] == [running.id, soon.id, later.id]
    assert all(i.as_coach for i in coaching.items)
    assert coaching.items[0].status == "In progress"
    assert (await page(uow_factory, OTHER)).total == 1


async def test_holds_count_until_they_run_out_and_other_servers_are_left_out(uow_factory):
    offering = await seed(uow_factory)
    hold = await insert_booking(uow_factory, offering, STUDENT, NOW + 24 * H,
                                status="pending_payment", expires_at=NOW + H / 2)
    async with uow_factory() as uow:
        other_guild_coach = await uow.coaches.create(guild_id=2, user_id=COACH_USER,
                                                     display_name="Carla elsewhere")
        await uow.commit()
    elsewhere = await create_offering(uow_factory, other_guild_coach)
    await insert_booking(uow_factory, elsewhere, STUDENT, NOW + 30 * H)

    assert [i.booking_id for i in (await page(uow_factory, STUDENT)).items] == [hold.id]
    assert (await page(uow_factory, STUDENT, now=NOW + H)).total == 0
    assert (await page(uow_factory, STUDENT, upcoming=False, now=NOW + H)).total == 0


async def test_paging_is_clamped(uow_factory):
    offering = await seed(uow_factory)
    for day in range(1, 6):
        await insert_booking(uow_factory, offering, STUDENT, NOW + day * 24 * H)

    first = await page(uow_factory, STUDENT, page_size=2)
    assert (first.page, first.pages, first.total) == (0, 3, 5)
    assert not first.has_previous and first.has_next
    last = await page(uow_factory, STUDENT, number=7, page_size=2)
    assert (last.page, len(last.items), last.has_next) == (2, 1, False)
    assert (await page(uow_factory, STUDENT, number=-3, page_size=2)).page == 0
    empty = await page(uow_factory, OTHER)
    assert (empty.page, empty.pages, empty.items) == (0, 1, ())
