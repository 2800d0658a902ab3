"""`/coaching export from to` (admins): the bookings of a date range as CSV, checked cell by
cell; bad ranges; formulas in user text neutralised; members without Manage Server refused."""

from __future__ import annotations

import csv
import io

import discord
import pytest

from storage.models import Payment, Refund
from tests.cogs.booking_seed import MON, TUE, add_booking, at, seed_coach, seed_offering
from tests.harness.dpytest_fixes import grant_permissions


@pytest.fixture
async def seeded(coachbot, members):
    student, admin, coach_member = members
    grant_permissions(admin, discord.Permissions(manage_guild=True))
    coach = await seed_coach(coachbot, coach_member, name="=Coach Carla")
    offering = await seed_offering(coachbot, coach, title="Mock, \"interview\"")
    paid = await add_booking(coachbot, offering, student.id, at(MON, 10), status="completed")
    free = await add_booking(coachbot, offering, student.id, at(TUE, 23, 30),
                             status="cancelled", reschedule_count=2)
    await add_booking(coachbot, offering, student.id, at(TUE, 0) + (TUE - MON))  # Wed: outside
    async with coachbot.services.uow() as uow:
        payment = Payment(booking_id=paid.id, amount_minor=4550, currency="EUR",
                          status="partially_refunded")
        uow.session.add(payment)
        await uow.session.flush()
        uow.session.add(Refund(payment_id=payment.id, amount_minor=1000, idempotency_key="a",
                               status="succeeded"))
        uow.session.add(Refund(payment_id=payment.id, amount_minor=500, idempotency_key="b",
                               status="failed"))
        await uow.commit()
    return student, admin, coach_member, paid, free


def parse(response) -> list[dict[str, str]]:
    [sent] = response.files
    text = sent.data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_csv_has_one_row_per_booking_in_the_range(coachbot, driver, seeded):
    student, admin, coach_member, paid, free = seeded
    reply = (await driver.slash(admin, "coaching export",
                                options={"from": "2026-11-23", "to": "2026-11-24"})).last
    assert reply.ephemeral
    assert reply.content == "2 bookings starting from 2026-11-23 to 2026-11-24 (UTC)."
    assert reply.files[0].filename == "bookings-2026-11-23-to-2026-11-24.csv"
    assert reply.files[0].data.startswith("\ufeffbooking_id,status,".encode())
    rows = parse(reply)
    common = {"offering": 'Mock, "interview"', "coach": "'=Coach Carla",
              "coach_user_id": str(coach_member.id), "student_user_id": str(student.id)}
    assert rows[0] == {
        "booking_id": str(paid.id), "status": "completed", "start_utc": "2026-11-23T10:00:00Z",
        "end_utc": "2026-11-23T11:00:00Z", **common, "reschedules": "0", "amount": "45.50",
        "currency": "EUR", "payment_status": "partially_refunded", "refunded": "10.00",
        "created_utc": rows[0]["created_utc"]}
    assert rows[1] == {
        "booking_id": str(free.id), "status": "cancelled", "start_utc": "2026-11-24T23:30:00Z",
        "end_utc": "2026-11-25T00:30:00Z", **common, "reschedules": "2", "amount": "",
        "currency": "", "payment_status": "", "refunded": "",
        "created_utc": rows[1]["created_utc"]}
    assert rows[0]["created_utc"].endswith("Z")


async def test_an_empty_range_gives_just_the_header(coachbot, driver, seeded):
    _, admin, *_ = seeded
    reply = (await driver.slash(admin, "coaching export",
                                options={"from": "2025-01-01", "to": "2025-01-31"})).last
    assert reply.content.startswith("0 bookings")
    assert parse(reply) == []


@pytest.mark.parametrize(("first", "last", "message"), [
    ("2026-11-30", "2026-11-01", "`to` is before `from`"),
    ("yesterday", "2026-11-01", "`from` must be a date like 2026-11-01"),
    ("2026-11-01", "2026-13-01", "`to` must be a date"),
    ("2000-01-01", "2026-01-01", "That range is too long"),
])
async def test_bad_ranges(coachbot, driver, seeded, first, last, message):
    _, admin, *_ = seeded
    reply = (await driver.slash(admin, "coaching export",
                                options={"from": first, "to": last})).last
    assert reply.ephemeral and message in reply.content and reply.files == []


async def test_members_without_manage_server_are_refused(coachbot, driver, seeded):
    student, *_ = seeded
    reply = (await driver.slash(student, "coaching export",
                                options={"from": "2026-11-23", "to": "2026-11-24"})).last
    assert reply.ephemeral and "Manage Server" in reply.content and reply.files == []
