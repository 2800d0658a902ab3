"""What `/book` needs (`scheduling.book_flow`): labels and parsing as pure functions; finding
coaches and offerings, eligibility, the shown timezone, days and times, and Confirm on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scheduling import book_flow as flow
from scheduling.book_choices import confirm_times
from scheduling.book_flow import OfferingInfo, Question, ShownZone
from scheduling.eligibility import StudentFacts
from scheduling.errors import InvalidInput, NotAllowed, NotConfigured, NotFound, SlotTaken
from scheduling.provisioning import ProvisioningOutcome, SessionLocation
from storage.models import Booking
from tests.cogs.booking_seed import create_coach, create_offering, insert_booking

GUILD = 1
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
H = timedelta(hours=1)
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
STUDENT, COACH_USER = 700, 500


def facts(user_id=STUDENT, *, pending=False, roles=(), member=True):
    return StudentFacts(user_id, member, pending, frozenset(roles))


def info(**changes):
    values = {"offering_id": 1, "guild_id": GUILD, "title": "Mock interview", "coach_id": 1,
              "coach_user_id": COACH_USER, "coach_name": "Carla", "coach_zone": "UTC",
              "duration_minutes": 60, "price_minor": 0, "currency": "USD", "capacity": 1,
              "booking_window_days": 60, "questions": ()}
    return OfferingInfo(**{**values, **changes})


# ---------------------------------------------------------------- labels


def test_labels():
    assert flow.day_label(date(2026, 11, 24), 5) == "Tue 24 Nov · 5 times"
    assert flow.day_label(date(2026, 12, 1), 1) == "Tue 1 Dec · 1 time"
    assert flow.time_label(TUE_10, "Asia/Kolkata") == "15:30"
    assert flow.when_label(TUE_10, "America/New_York") == "Tue 24 Nov 05:00"
    assert flow.seats_text(1) == "1 seat left" and flow.seats_text(3) == "3 seats left"
    assert flow.local_day(datetime(2026, 11, 23, 23, 30, tzinfo=UTC), "Asia/Tokyo") == date(
        2026, 11, 24)


def test_time_labels_follow_daylight_saving():
    # Berlin moves from CET (+1) to CEST (+2) on 29 March 2026.
    assert flow.time_label(datetime(2026, 3, 28, 9, tzinfo=UTC), "Europe/Berlin") == "10:00"
    assert flow.time_label(datetime(2026, 3, 30, 9, tzinfo=UTC), "Europe/Berlin") == "11:00"
    start, end = flow.day_bounds(date(2026, 3, 29), "Europe/Berlin")
    assert end - start == timedelta(hours=23)
    start, end = flow.day_bounds(date(2026, 10, 25), "Europe/Berlin")
    assert end - start == timedelta(hours=25)


def test_zone_notes_say_whose_timezone_it_is():
    mine = flow.zone_note(ShownZone("Europe/Berlin", True), NOW)
    assert mine == "Days and times in your timezone, Europe/Berlin (UTC+01:00, CET)."
    theirs = flow.zone_note(ShownZone("UTC", False), NOW)
    assert theirs.startswith("Days and times in the coach's timezone, UTC")
    assert "/book timezone:" in theirs


def test_expiry_after_15_minutes():
    assert not flow.is_expired(NOW, NOW + timedelta(minutes=15))
    assert flow.is_expired(NOW, NOW + timedelta(minutes=15, seconds=1))


def test_parsing_select_values():
    assert flow.parse_day("2026-11-24") == date(2026, 11, 24)
    assert flow.parse_start(str(int(TUE_10.timestamp()))) == TUE_10
    with pytest.raises(InvalidInput, match="Pick a day"):
        flow.parse_day("tomorrow")
    with pytest.raises(InvalidInput, match="Pick a time"):
        flow.parse_start("10:00")
    assert flow.check_timezone(None) is None
    assert flow.check_timezone("europe/berlin") == "Europe/Berlin"
    with pytest.raises(InvalidInput, match="Unknown timezone"):
        flow.check_timezone("Mars/Olympus")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_typed_values_only_ever_raise_invalid_input(text):
    for parse in (flow.parse_day, flow.parse_start, flow.check_timezone):
        try:
            parse(text)
        except InvalidInput as error:
            assert error.user_message


def test_answers_are_trimmed_and_required_ones_enforced():
    asked = info(questions=(Question(0, "Goal", "paragraph", True),
                            Question(1, "CV", "short", False)))
    assert flow.clean_answers(asked, ["  Graphs \n", ""]) == (("Goal", "Graphs"), ("CV", ""))
    assert flow.clean_answers(asked, ["x", "y" * 500])[1][1] == "y" * flow.SHORT_ANSWER_MAX
    with pytest.raises(InvalidInput, match="Please answer “Goal”"):
        flow.clean_answers(asked, ["   ", "cv"])


def test_summary_and_paid_message():
    summary = flow.summary(info(capacity=3), TUE_10, (("Goal", "x"),), seats_left=2)
    assert (summary.end, summary.duration_text, summary.price_text, summary.seats_left) == (
        TUE_10 + H, "1 h", "Free", 2)
    assert flow.summary(info(), TUE_10, (), seats_left=1).seats_left is None
    paid = flow.payments_not_ready(info(price_minor=2500))
    assert paid.startswith("**Mock interview** costs $25.00. Paying for sessions is not")
    assert "nothing was booked or reserved" in paid


def test_booked_message():
    base = info()
    delivered = ProvisioningOutcome(7, done=("role", "text_channel", "dm_student"),
                                    location=SessionLocation(text_channel_id=5,
                                                             join_url="https://meet/x"))
    text = flow.booked_message(base, TUE_10, delivered)
    assert text.splitlines() == [
        f"✅ You're booked: **Mock interview** with **Carla**, <t:{int(TUE_10.timestamp())}:F> "
        f"(<t:{int(TUE_10.timestamp())}:R>).",
        "Your private session channel: <#5>", "Join link: https://meet/x",
        "I sent you a DM with the details and a calendar file."]
    closed = ProvisioningOutcome(7, done=("dm_student",), notes={"dm_student": "DMs closed"},
                                 pending={"role": "role above the bot"},
                                 location=SessionLocation(text_channel_id=5,
                                                          voice_channel_id=6))
    text = flow.booked_message(base, TUE_10, closed)
    assert "Voice channel for the session: <#6>" in text
    assert "Your DMs are closed, so the details and the calendar file are in <#5>" in text
    assert "Still being set up on Discord: role. Your booking is confirmed" in text


# ---------------------------------------------------------------- with storage


async def seed(uow_factory, **fields):
    coach = await create_coach(uow_factory, GUILD, COACH_USER, name="Carla Jones",
                               specialties=("Interviews",))
    offering = await create_offering(uow_factory, coach, **fields)
    return coach, offering


async def test_finding_coaches(uow_factory):
    carla, _ = await seed(uow_factory)
    carlos = await create_coach(uow_factory, GUILD, 501, name="Carlos")
    await create_offering(uow_factory, carlos, title="Pitch practice")
    await create_coach(uow_factory, GUILD, 502, name="Idle")
    async with uow_factory() as uow:
        assert (await flow.find_coach(uow, GUILD, str(carla.id))).id == carla.id
        assert (await flow.find_coach(uow, GUILD, " carla jones ")).id == carla.id
        assert (await flow.find_coach(uow, GUILD, "Carlos")).id == carlos.id
        with pytest.raises(InvalidInput, match="Several coaches match"):
            await flow.find_coach(uow, GUILD, "carl")
        with pytest.raises(NotFound, match="/coaches"):
            await flow.find_coach(uow, GUILD, "Idle")
        with pytest.raises(NotFound):
            await flow.find_coach(uow, 2, str(carla.id))
        assert await flow.coach_choices(uow, GUILD, "") == [("Carla Jones", str(carla.id)),
                                                            ("Carlos", str(carlos.id))]
        assert await flow.coach_choices(uow, GUILD, "interv") == [("Carla Jones",
                                                                   str(carla.id))]
        options = await flow.coach_options(uow, GUILD)
        assert [(o.label, o.description) for o in options] == [
            ("Carla Jones", "1 offering · Free"), ("Carlos", "1 offering · Free")]


async def test_finding_offerings(uow_factory):
    carla, mock = await seed(uow_factory)
    review = await create_offering(uow_factory, carla, title="CV review", price_minor=1500)
    await create_offering(uow_factory, carla, title="Secret draft", status="draft")
    carlos = await create_coach(uow_factory, GUILD, 501, name="Carlos")
    pitch = await create_offering(uow_factory, carlos, title="Pitch practice")
    async with uow_factory() as uow:
        assert (await flow.find_offering(uow, GUILD, str(review.id))).id == review.id
        assert (await flow.find_offering(uow, GUILD, "pitch", carlos)).id == pitch.id
        with pytest.raises(InvalidInput, match="not Carlos's"):
            await flow.find_offering(uow, GUILD, str(mock.id), carlos)
        with pytest.raises(NotFound):
            await flow.find_offering(uow, GUILD, "Secret draft")
        with pytest.raises(InvalidInput, match="Several offerings"):
            await flow.find_offering(uow, GUILD, "i")
        everything = await flow.offering_choices(uow, GUILD, "", None)
        assert everything == [("Mock interview · Carla Jones · Free", str(mock.id)),
                              ("CV review · Carla Jones · $15.00", str(review.id)),
                              ("Pitch practice · Carlos · Free", str(pitch.id))]
        assert await flow.offering_choices(uow, GUILD, "", str(carlos.id)) == [
            ("Pitch practice · Free", str(pitch.id))]
        assert await flow.offering_choices(uow, GUILD, "carlos", None) == [
            ("Pitch practice · Carlos · Free", str(pitch.id))]
        assert await flow.offering_choices(uow, GUILD, "", "nobody") == []
        option = flow.offering_option(await uow.offerings.get(review.id))
        assert (option.label, option.description) == ("CV review", "1 h · $15.00")


async def test_offering_info_reads_the_schedules_timezone_and_questions(uow_factory):
    coach = await create_coach(uow_factory, GUILD, COACH_USER, name="Kai",
                               timezone="America/New_York")
    offering = await create_offering(uow_factory, coach, capacity=4,
                                     questions=(("Goal", "paragraph", True),))
    async with uow_factory() as uow:
        found = await flow.offering_info(uow, offering.id, GUILD)
        assert (found.coach_zone, found.coach_user_id, found.is_group) == (
            "America/New_York", COACH_USER, True)
        assert found.questions == (Question(0, "Goal", "paragraph", True),)
        with pytest.raises(NotFound, match="not available for booking"):
            await flow.offering_info(uow, offering.id, 2)


async def test_eligibility(uow_factory):
    _, offering = await seed(uow_factory, max_per_student=1)
    async with uow_factory() as uow:
        await flow.check_eligible(uow, facts(), guild_id=GUILD, coach_user_id=COACH_USER,
                                  offering_id=offering.id, now=NOW)
        with pytest.raises(NotAllowed, match="membership screening"):
            await flow.check_eligible(uow, facts(pending=True), guild_id=GUILD, now=NOW)
        with pytest.raises(NotAllowed, match="Only members"):
            await flow.check_eligible(uow, facts(member=False), guild_id=GUILD, now=NOW)
        with pytest.raises(NotAllowed, match="with yourself"):
            await flow.check_eligible(uow, facts(COACH_USER), guild_id=GUILD,
                                      coach_user_id=COACH_USER, now=NOW)
        await uow.guild_settings.update(GUILD, required_role_id=42)
        with pytest.raises(NotAllowed, match="<@&42>"):
            await flow.check_eligible(uow, facts(), guild_id=GUILD, now=NOW)
        await flow.check_eligible(uow, facts(roles=(42,)), guild_id=GUILD, now=NOW)
    await insert_booking(uow_factory, offering, STUDENT, TUE_10)
    async with uow_factory() as uow:
        with pytest.raises(NotAllowed, match="1 upcoming session"):
            await flow.check_eligible(uow, facts(), guild_id=GUILD, offering_id=offering.id,
                                      now=NOW)


async def test_shown_zone_and_remembering_it(uow_factory):
    async with uow_factory() as uow:
        assert await flow.shown_zone(uow, STUDENT, "UTC") == ShownZone("UTC", False)
        assert await flow.shown_zone(uow, STUDENT, "UTC", "Asia/Tokyo") == ShownZone(
            "Asia/Tokyo", True)
        assert await uow.preferences.get(STUDENT) is None  # showing writes nothing
    async with uow_factory(immediate=True) as uow:
        await flow.remember_timezone(uow, STUDENT, "Asia/Tokyo")
        await uow.commit()
    async with uow_factory() as uow:
        assert await flow.shown_zone(uow, STUDENT, "UTC") == ShownZone("Asia/Tokyo", True)
        stamp = (await uow.preferences.get(STUDENT)).updated_at
    async with uow_factory(immediate=True) as uow:
        await flow.remember_timezone(uow, STUDENT, "Asia/Tokyo")  # unchanged: not rewritten
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.preferences.get(STUDENT)).updated_at == stamp


async def test_days_and_times_in_the_students_timezone(uow_factory):
    _, offering = await seed(uow_factory)  # Mon-Fri 09:00-17:00 UTC, 60 min notice
    await insert_booking(uow_factory, offering, 9, TUE_10)
    async with uow_factory() as uow:
        days = await flow.open_days(uow, offering.id, GUILD, zone="UTC", now=NOW)
        assert [(d.day, d.count) for d in days[:3]] == [
            (date(2026, 11, 23), 7), (date(2026, 11, 24), 7), (date(2026, 11, 25), 8)]
        assert all(d.day.weekday() < 5 for d in days)
        assert len(days) == flow.MAX_DAYS
        tokyo = await flow.open_days(uow, offering.id, GUILD, zone="Asia/Tokyo", now=NOW,
                                     limit=2)
        assert [(d.day, d.count) for d in tokyo] == [(date(2026, 11, 23), 5),
                                                     (date(2026, 11, 24), 7)]
        slots = await flow.slots_of_day(uow, offering.id, GUILD, date(2026, 11, 24),
                                        zone="Asia/Tokyo", now=NOW)
        assert [flow.time_label(s.start, "Asia/Tokyo") for s in slots] == [
            "00:00", "01:00", "18:00", "20:00", "21:00", "22:00", "23:00"]


async def test_a_short_window_lists_only_its_days(uow_factory):
    _, offering = await seed(uow_factory, booking_window_days=2)
    async with uow_factory() as uow:
        days = await flow.open_days(uow, offering.id, GUILD, zone="UTC", now=NOW)
    assert [d.day for d in days] == [date(2026, 11, 23), date(2026, 11, 24)]


async def bookings(uow_factory):
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(Booking).order_by(Booking.id)))


async def test_confirm_books_a_free_offering(uow_factory):
    _, offering = await seed(uow_factory)
    [booking] = await confirm_times(uow_factory, facts(), guild_id=GUILD,
                                    offering_id=offering.id, starts=[TUE_10],
                                    answers=(("Goal", "x"),), now=NOW)
    assert (booking.status, booking.start_at, booking.answers) == (
        "confirmed", TUE_10, [{"label": "Goal", "answer": "x"}])


async def test_confirm_refuses_a_paid_offering_and_holds_nothing(uow_factory):
    _, offering = await seed(uow_factory, price_minor=2500)
    with pytest.raises(NotConfigured, match="Paying for sessions is not available"):
        await confirm_times(uow_factory, facts(), guild_id=GUILD, offering_id=offering.id,
                           starts=[TUE_10], answers=(), now=NOW)
    assert await bookings(uow_factory) == []


async def test_confirm_checks_eligibility_and_the_slot_again(uow_factory):
    _, offering = await seed(uow_factory)
    with pytest.raises(NotAllowed, match="with yourself"):
        await confirm_times(uow_factory, facts(COACH_USER), guild_id=GUILD,
                           offering_id=offering.id, starts=[TUE_10], answers=(), now=NOW)
    await insert_booking(uow_factory, offering, 9, TUE_10)
    with pytest.raises(SlotTaken) as taken:
        await confirm_times(uow_factory, facts(), guild_id=GUILD, offering_id=offering.id,
                           starts=[TUE_10], answers=(), now=NOW)
    starts = [s.start for s in taken.value.alternatives]
    assert TUE_10 - H in starts and TUE_10 + H in starts
    assert len(await bookings(uow_factory)) == 1


async def test_confirm_refuses_an_offering_unpublished_meanwhile(uow_factory):
    _, offering = await seed(uow_factory, status="unpublished")
    with pytest.raises(NotFound, match="not available for booking"):
        await confirm_times(uow_factory, facts(), guild_id=GUILD, offering_id=offering.id,
                           starts=[TUE_10], answers=(), now=NOW)
