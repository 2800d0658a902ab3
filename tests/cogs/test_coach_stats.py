"""`/coach stats [period] [member]` on a seeded week: counts, money per currency, rating,
utilisation over the schedule's hours (with a day off), busiest days and hours, the PNG chart;
who may see whose stats."""

from __future__ import annotations

import io
from datetime import date, timedelta

import discord
import pytest
from PIL import Image

from scheduling.stats import offered_intervals, schedule_hours
from storage.models import DateOverride, Payment, Rating, Refund
from tests.cogs.booking_seed import MON, add_booking, at, seed_coach, seed_offering
from tests.harness.dpytest_fixes import grant_permissions

LAST_MON = MON - timedelta(days=7)  # 16 Nov 2026; the clock is Mon 23 Nov 09:00 UTC


def day(offset: int):
    return LAST_MON + timedelta(days=offset)


@pytest.fixture
async def seeded(coachbot, members):
    student, other, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")  # Mon-Fri 9-17 UTC
    offering = await seed_offering(coachbot, coach)
    plan = [  # (start, status, payment (minor, currency, status), refund, stars)
        (at(day(0), 10), "completed", (5000, "USD", "paid"), None, 5),
        (at(day(1), 10), "completed", (5000, "USD", "paid"), None, 4),
        (at(day(1), 14), "no_show_student", (5000, "USD", "paid"), None, None),
        (at(day(3), 10), "cancelled", (5000, "USD", "refunded"), 5000, None),
        (at(day(4), 11), "no_show_coach", None, None, None),
        (at(day(3), 15), "completed", (3000, "EUR", "paid"), None, 4),
        (at(day(-7), 10), "completed", (9999, "USD", "paid"), None, 1),  # before the period
    ]
    booked = [await add_booking(coachbot, offering, student.id, start, status=status)
              for start, status, *_ in plan]
    async with coachbot.services.uow() as uow:
        schedule = await uow.schedules.get_by_name(coach.id, "default")
        uow.session.add(DateOverride(schedule_id=schedule.id, day=date(2026, 11, 18)))  # Wed off
        for booking, (_, _, paid, refund, stars) in zip(booked, plan, strict=True):
            if paid:
                payment = Payment(booking_id=booking.id, amount_minor=paid[0],
                                  currency=paid[1], status=paid[2])
                uow.session.add(payment)
                await uow.session.flush()
                if refund:
                    uow.session.add(Refund(payment_id=payment.id, amount_minor=refund,
                                           idempotency_key=f"r{booking.id}",
                                           status="succeeded"))
            if stars:
                uow.session.add(Rating(booking_id=booking.id, student_id=student.id,
                                       coach_id=coach.id, stars=stars))
        await uow.commit()
    return student, other, coach_member


def fields(embed):
    return {f.name: f.value for f in embed.fields}


async def test_figures_of_the_last_7_days(coachbot, driver, seeded):
    _, _, coach_member = seeded
    reply = (await driver.slash(coach_member, "coach stats", period="7d")).last
    assert reply.ephemeral
    [embed] = reply.embeds
    assert embed.title == "Stats of Coach Carla: the last 7 days"
    shown = fields(embed)
    assert shown["Completed"] == "3"
    assert shown["Cancelled"] == "1"
    assert shown["No-shows"] == "1 by students, 1 by the coach"
    assert shown["Revenue"] == "€30.00, $200.00"
    assert shown["Refunds"] == "$50.00"
    assert shown["Average rating"] == "4.3 ★ (3 ratings)"
    # Offered: Mon 09-17, Tue, Thu, Fri 09-17 (Wednesday off) = 32 h; booked 5 h.
    assert shown["Utilisation"] == "15.6% (5 h booked of 32 h offered)"
    assert shown["Busiest weekdays"] == "Tuesday (2), Monday (1), Thursday (1)"
    assert shown["Busiest hours (coach's timezone)"] == "10:00 (2), 14:00 (1), 15:00 (1)"
    [chart] = reply.files
    assert chart.filename == "sessions-per-week.png"
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(chart.data))
    image.verify()
    assert image.format == "PNG" and image.size == (800, 360)
    assert embed.image.url == "attachment://sessions-per-week.png"


async def test_who_may_see_whose_stats(coachbot, driver, seeded):
    student, other, coach_member = seeded
    refused = (await driver.slash(student, "coach stats", member=coach_member)).last
    assert refused.ephemeral and "server admins (Manage Server)" in refused.content
    grant_permissions(other, discord.Permissions(manage_guild=True))
    allowed = (await driver.slash(other, "coach stats", member=coach_member,
                                  period="90d")).last
    assert fields(allowed.embeds[0])["Completed"] == "4"
    nobody = (await driver.slash(student, "coach stats")).last
    assert "is not a coach on this server" in nobody.content


def test_offered_hours_follow_the_timezone_and_dst():
    class W:
        def __init__(self, weekday, start, end):
            self.weekday, self.start_minute, self.end_minute = weekday, start, end

    hours = schedule_hours("Europe/Berlin", [W(6, 540, 1020)], [])  # Sundays 09-17 local
    start = at(day(-30), 0)  # 17 Oct .. 31 Oct 2026 (DST ends on Sunday 25 Oct)
    intervals = offered_intervals([hours], start, start + timedelta(days=14))
    assert [(a.isoformat(), b.isoformat()) for a, b in intervals] == [
        ("2026-10-18T07:00:00+00:00", "2026-10-18T15:00:00+00:00"),
        ("2026-10-25T08:00:00+00:00", "2026-10-25T16:00:00+00:00")]
