"""`/coach reviews [member]`: feedback newest first, five per page, the student named only if
they agreed; the average to one decimal and the counts; the card shows the same."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.reviews import average_text
from storage.models import Rating
from tests.cogs.booking_seed import MON, TUE, add_booking, at, seed_coach, seed_offering


@pytest.fixture
async def rated(coachbot, members):
    student, other, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    offering = await seed_offering(coachbot, coach)
    stars = [5, 4, 4, 3, 5, 5, 2]
    async with coachbot.services.uow() as uow:
        for index, value in enumerate(stars):
            booking = await add_booking(coachbot, offering, student.id,
                                        at(MON - timedelta(days=10 - index), 10),
                                        status="completed")
            uow.session.add(Rating(
                booking_id=booking.id, student_id=student.id if index % 2 else other.id,
                coach_id=coach.id, stars=value,
                feedback=None if index == 6 else f"Review {index} @everyone",
                show_name=index == 5,
                created_at=at(TUE, 10) + timedelta(minutes=index),
                updated_at=at(TUE, 10)))
        row = await uow.coaches.get_by_user(coach.guild_id, coach_member.id)
        row.rating_sum, row.rating_count, row.sessions_completed = sum(stars), len(stars), 9
        await uow.commit()
    return student, other, coach_member


def fields(embed):
    return [(f.name, f.value) for f in embed.fields]


async def test_reviews_page_through_newest_first(coachbot, driver, rated):
    student, _, coach_member = rated
    first = (await driver.slash(student, "coach reviews", member=coach_member)).last
    assert first.ephemeral
    [embed] = first.embeds
    assert embed.title == "Reviews of Coach Carla"
    assert embed.description == "Average **4.0** ★ from 7 ratings · 9 sessions completed"
    shown = fields(embed)
    assert [value.split("\n")[0] for _, value in shown] == [
        "Review 5 @everyone", "Review 4 @everyone", "Review 3 @everyone",
        "Review 2 @everyone", "Review 1 @everyone"]
    assert shown[0][1].endswith(f"— <@{student.id}>")  # agreed to be named
    assert all(v.endswith("— A student") for _, v in shown[1:])
    assert shown[0][0].startswith("★★★★★ · <t:")
    assert embed.footer.text == "Page 1 of 2"
    assert first.allowed_mentions == {"parse": []}

    second = (await driver.click(student, first, "reviews:next")).last
    [embed] = second.embeds
    assert [v.split("\n")[0] for _, v in fields(embed)] == ["Review 0 @everyone"]
    assert embed.footer.text == "Page 2 of 2"
    back = (await driver.click(student, second, "reviews:previous")).last
    assert back.embeds[0].footer.text == "Page 1 of 2"


async def test_own_reviews_and_the_card(coachbot, driver, rated):
    _, _, coach_member = rated
    mine = (await driver.slash(coach_member, "coach reviews")).last
    assert mine.embeds[0].title == "Reviews of Coach Carla"
    card = (await driver.slash(coach_member, "coach show")).last.embeds[0]
    values = {f.name: f.value for f in card.fields}
    assert values["Rating"] == "4.0 ★ (7 ratings)"
    assert values["Sessions completed"] == "9"


async def test_a_member_who_is_not_a_coach(coachbot, driver, members):
    reply = (await driver.slash(members[0], "coach reviews", member=members[1])).last
    assert reply.ephemeral and "is not a coach on this server" in reply.content


async def test_no_feedback_yet(coachbot, driver, members):
    await seed_coach(coachbot, members[2], name="New Coach")
    reply = (await driver.slash(members[0], "coach reviews", member=members[2])).last
    [embed] = reply.embeds
    assert embed.description.startswith("Average **—** ★ from 0 ratings")
    assert fields(embed)[0][0] == "No written feedback yet"
    assert reply.components == []


@pytest.mark.parametrize(("total", "count", "text"), [
    (0, 0, "—"), (9, 2, "4.5"), (14, 3, "4.7"), (13, 3, "4.3"), (5, 1, "5.0"), (29, 6, "4.8")])
def test_average_text(total, count, text):
    assert average_text(total, count) == text
