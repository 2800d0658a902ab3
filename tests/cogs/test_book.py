"""`/book` through discord.py's interaction pipeline: the whole flow for a free offering and what
it does on Discord (role, private channel, DMs with the calendar file), closed DMs, every
eligibility refusal, the race for one slot, group seats, a failed role that is retried once,
paid offerings stopping at the summary, timezones, navigation and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import func, select

from bot.lifecycle import runner_of
from bot.provisioning import retry_unfinished
from storage.models import MemberPreferences, RoleGrant
from tests.cogs.booking_seed import (
    TUE,
    add_booking,
    at,
    bookings,
    history,
    new_member,
    seed_coach,
    seed_offering,
    set_pending,
    set_role_position,
    setup_server,
)
from tests.harness import close_dms

TUE_DAY = "2026-11-24"
TUE_10 = at(TUE, 10)
QUESTIONS = (("What do you want to practise?", "paragraph", True), ("Your CV link", "short", False))


@pytest.fixture
async def world(coachbot, guild, members):
    server = await setup_server(coachbot, guild)
    student, other, coach_member = members
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    return {"server": server, "student": student, "other": other, "coach_member": coach_member,
            "coach": coach}


def option(response, custom_id, label):
    found = [o for o in response.component(custom_id)["options"] if o["label"] == label]
    assert found, [o["label"] for o in response.component(custom_id)["options"]]
    return found[0]["value"]


def fields(embed):
    return {f.name: f.value for f in embed.fields}


async def to_summary(driver, member, *, day=TUE_DAY, time="10:00", answers=None, **options):
    """Run /book with `options` and walk to the summary (answering questions if asked)."""
    reply = await driver.slash(member, "book", **options)
    reply = await driver.select(member, reply.last, "book:day", [day])
    reply = await driver.select(member, reply.last, "book:slot",
                                [option(reply.last, "book:slot", time)])
    if reply.last.modal is not None:
        reply = await driver.submit_modal(member, reply, answers or {})
    return reply


async def preference_rows(bot):
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(MemberPreferences)))


# ---------------------------------------------------------------- the whole flow (acceptance)


async def test_booking_a_free_offering_end_to_end(coachbot, driver, guild, world):
    student, coach_member = world["student"], world["coach_member"]
    offering = await seed_offering(coachbot, world["coach"], questions=QUESTIONS)

    first = (await driver.slash(student, "book")).last  # one coach, one offering: no choices
    assert first.ephemeral
    assert "**Mock interview** with **Coach Carla** · 1 h · Free" in first.content
    assert "coach's timezone, UTC" in first.content and "/book timezone:" in first.content
    days = first.component("book:day")["options"]
    assert [d["label"] for d in days[:2]] == ["Mon 23 Nov · 7 times", "Tue 24 Nov · 8 times"]
    assert len(days) <= 25

    times = (await driver.select(student, first, "book:day", [TUE_DAY])).last
    assert [o["label"] for o in times.component("book:slot")["options"]][:3] == [
        "09:00", "10:00", "11:00"]
    listed = times.embeds[0].description.splitlines()
    assert listed[1] == f"<t:{int(TUE_10.timestamp())}:t> – <t:{int(TUE_10.timestamp()) + 3600}:t>"

    asked = await driver.select(student, times, "book:slot", [option(times, "book:slot", "10:00")])
    modal = asked.last.modal
    assert modal is not None and modal.title == "Before you book: Mock interview"
    assert (modal.fields["q0"]["style"], modal.fields["q0"]["required"]) == (2, True)
    assert (modal.fields["q1"]["style"], modal.fields["q1"]["required"]) == (1, False)

    summary = (await driver.submit_modal(student, asked, {"q0": "  System design  "})).last
    shown = fields(summary.embeds[0])
    assert shown["When"] == (f"<t:{int(TUE_10.timestamp())}:F> "
                             f"(<t:{int(TUE_10.timestamp())}:R>)")
    assert shown["Price"] == "Free" and shown["Duration"] == "1 h"
    assert shown["Coach"] == f"<@{coach_member.id}> (Coach Carla)"
    assert shown["What do you want to practise?"] == "System design"
    assert shown["Your CV link"] == "—"
    assert await bookings(coachbot) == []  # nothing is held before Confirm

    done = await driver.click(student, summary, "book:confirm")

    assert done.first.kind == 6  # deferred first: provisioning talks to Discord
    [row] = await bookings(coachbot)
    assert (row.status, row.student_id, row.offering_id, row.start_at) == (
        "confirmed", student.id, offering.id, TUE_10)
    assert row.answers == [{"label": "What do you want to practise?", "answer": "System design"},
                           {"label": "Your CV link", "answer": ""}]
    followup = done.of_kind("followup").last
    assert followup.ephemeral
    assert followup.content.startswith("✅ You're booked: **Mock interview** with **Coach Carla**")
    assert f"<#{row.text_channel_id}>" in followup.content
    assert f"<#{row.voice_channel_id}>" in followup.content
    assert "I sent you a DM" in followup.content
    join = next(c for c in followup.components[0]["components"] if c.get("url"))
    assert join["url"] == f"https://discord.com/channels/{guild.id}/{row.voice_channel_id}"
    assert done.of_kind("edit").last.components == []  # Confirm cannot be pressed again

    # The access role, and the private channel: student and coach in, @everyone out.
    assert world["server"].role in guild.get_member(student.id).roles
    channel = guild.get_channel(row.text_channel_id)
    assert channel.category == world["server"].category
    assert channel.overwrites_for(guild.default_role).view_channel is False
    for member in (student, coach_member):
        assert channel.overwrites_for(member).view_channel is True
        assert channel.permissions_for(member).view_channel
    assert not channel.permissions_for(world["other"]).view_channel

    # Its first reminder (24 h before) is scheduled right away, not at the next sweep.
    assert runner_of(coachbot).wakeups.due_of(row.id) == TUE_10 - timedelta(hours=24)

    # Both DMs carry the session card and the calendar file.
    for member in (student, coach_member):
        [dm] = await history(member.dm_channel)
        assert dm.embeds[0].footer.text == f"Booking #{row.id}"
        [attachment] = dm.attachments
        assert attachment.filename.endswith(".ics")
        policy = fields(dm.embeds[0])["Cancellation policy"]
        assert "24 h or more before: 100 % refund" in policy
        event = Calendar.from_ical(await attachment.read()).walk("VEVENT")[0]
        assert event.decoded("DTSTART") == TUE_10


async def test_closed_dms_put_the_card_in_the_channel_and_the_booking_stands(coachbot, driver,
                                                                             guild, world):
    student = world["student"]
    await seed_offering(coachbot, world["coach"])
    close_dms(student)

    summary = (await to_summary(driver, student)).last
    done = await driver.click(student, summary, "book:confirm")

    [row] = await bookings(coachbot)
    assert row.status == "confirmed"
    text = done.of_kind("followup").last.content
    assert ("Your DMs are closed, so the details and the calendar file are in "
            f"<#{row.text_channel_id}>") in text
    _card, fallback = await history(guild.get_channel(row.text_channel_id))
    assert fallback.content.startswith(f"<@{student.id}> I could not send you a DM")
    assert fallback.attachments[0].filename.endswith(".ics")
    assert len(await history(world["coach_member"].dm_channel)) == 1


async def test_answers_with_mentions_are_shown_as_given_and_never_ping(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"], questions=QUESTIONS[:1])
    summary = (await to_summary(driver, world["student"],
                                answers={"q0": "@everyone and <@&42>"})).last
    assert fields(summary.embeds[0])["What do you want to practise?"] == "@everyone and <@&42>"
    assert summary.allowed_mentions == {"parse": []}


# ---------------------------------------------------------------- who may book


async def _refused(coachbot, driver, member, **options):
    reply = (await driver.slash(member, "book", timezone="Europe/Berlin", **options)).last
    assert reply.ephemeral and reply.components == []
    assert await preference_rows(coachbot) == []  # not even the timezone is remembered
    return reply.content


async def test_pending_membership_screening_is_refused(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"])
    set_pending(world["student"])
    text = await _refused(coachbot, driver, world["student"])
    assert text.startswith("Finish this server's membership screening first")
    assert await bookings(coachbot) == []


async def test_missing_required_role_is_refused_with_the_role(coachbot, driver, guild, world):
    await seed_offering(coachbot, world["coach"])
    members_role = await guild.create_role(name="Members")
    async with coachbot.services.uow() as uow:
        await uow.guild_settings.update(guild.id, required_role_id=members_role.id)
        await uow.commit()
    text = await _refused(coachbot, driver, world["student"])
    assert text.startswith(f"Booking here needs the <@&{members_role.id}> role")
    assert await bookings(coachbot) == []

    await world["student"].add_roles(members_role)
    assert (await driver.slash(world["student"], "book")).last.component("book:day")


async def test_a_coach_cannot_book_themselves(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"])
    text = await _refused(coachbot, driver, world["coach_member"], coach=str(world["coach"].id))
    assert text.startswith("You can't book a session with yourself")
    assert await bookings(coachbot) == []


async def test_over_the_per_student_limit_is_refused(coachbot, driver, world):
    offering = await seed_offering(coachbot, world["coach"], max_per_student=1)
    await add_booking(coachbot, offering, world["student"].id, at(TUE, 14))
    text = await _refused(coachbot, driver, world["student"], offering=str(offering.id))
    assert "You already have 1 upcoming session of **Mock interview**" in text
    assert "/sessions" in text
    assert len(await bookings(coachbot)) == 1


async def test_eligibility_is_checked_again_at_confirm(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"])
    summary = (await to_summary(driver, world["student"])).last
    set_pending(world["student"])  # e.g. the server turned screening on meanwhile
    reply = await driver.click(world["student"], summary, "book:confirm")
    assert reply.last.ephemeral and "membership screening" in reply.last.content
    assert await bookings(coachbot) == []


async def test_no_coaches_yet(coachbot, driver, members):
    reply = (await driver.slash(members[0], "book")).last
    assert reply.ephemeral and reply.content.startswith("Nobody on this server has anything")


# ---------------------------------------------------------------- the race and group seats


async def test_two_students_confirming_the_same_slot_one_wins_one_gets_alternatives(
        coachbot, driver, world):
    await seed_offering(coachbot, world["coach"])
    first, second = world["student"], world["other"]
    summary_1 = (await to_summary(driver, first)).last
    summary_2 = (await to_summary(driver, second)).last

    # Both saw the time free; the second Confirm arrives after the first one booked it. (The
    # truly simultaneous race is run against the booking service on both backends in
    # tests/storage/test_booking_service.py.)
    results = [await driver.click(first, summary_1, "book:confirm"),
               await driver.click(second, summary_2, "book:confirm")]

    [row] = await bookings(coachbot)
    assert row.student_id == first.id
    winner, loser = 0, 1
    assert results[winner].of_kind("followup").last.content.startswith("✅ You're booked")
    gone = results[loser].last
    assert "no longer free" in gone.content
    labels = [o["label"] for o in gone.component("book:alternative")["options"]]
    assert "Tue 24 Nov 10:00" not in labels
    assert {"Tue 24 Nov 09:00", "Tue 24 Nov 11:00"} <= set(labels)
    assert gone.embeds[0].title == "Nearest free times"

    # The loser picks the next time: back at the summary, answers kept, then booked.
    loser_member = (first, second)[loser]
    picked = (await driver.select(loser_member, gone, "book:alternative",
                                  [option(gone, "book:alternative", "Tue 24 Nov 11:00")])).last
    eleven = int(at(TUE, 11).timestamp())
    assert fields(picked.embeds[0])["When"].startswith(f"<t:{eleven}:F>")
    await driver.click(loser_member, picked, "book:confirm")
    assert sorted((b.student_id, b.start_at) for b in await bookings(coachbot)) == sorted(
        [(row.student_id, TUE_10), (loser_member.id, at(TUE, 11))])


async def test_group_seats_fill_up_and_a_third_student_finds_the_slot_gone(coachbot, driver,
                                                                           guild, world):
    await seed_offering(coachbot, world["coach"], title="Writing circle", capacity=2)
    first, second = world["student"], world["other"]
    third = new_member(guild, "third")

    times = await driver.slash(first, "book")
    times = (await driver.select(first, times.last, "book:day", [TUE_DAY])).last
    ten = next(o for o in times.component("book:slot")["options"] if o["label"] == "10:00")
    assert ten["description"] == "2 seats left"
    assert "· 2 seats left" in times.embeds[0].description

    summary_3 = (await to_summary(driver, third)).last
    assert fields(summary_3.embeds[0])["Seats"] == "2 seats left"
    await driver.click(first, (await to_summary(driver, first)).last, "book:confirm")
    summary_2 = (await to_summary(driver, second)).last
    assert fields(summary_2.embeds[0])["Seats"] == "1 seat left"
    await driver.click(second, summary_2, "book:confirm")

    late = (await driver.click(third, summary_3, "book:confirm")).last
    assert "no longer free" in late.content
    assert "Tue 24 Nov 10:00" not in [o["label"] for o in
                                      late.component("book:alternative")["options"]]
    rows = await bookings(coachbot)
    assert sorted(b.student_id for b in rows) == sorted([first.id, second.id])
    assert rows[0].slot_key == rows[1].slot_key
    assert rows[0].text_channel_id == rows[1].text_channel_id  # one channel for the group


# ---------------------------------------------------------------- Discord failing


async def test_a_failed_role_leaves_the_booking_confirmed_and_a_retry_finishes_once(
        coachbot, driver, guild, world):
    role = world["server"].role
    await seed_offering(coachbot, world["coach"])
    set_role_position(role, 50)  # above the bot's own role: Discord refuses

    summary = (await to_summary(driver, world["student"])).last
    done = await driver.click(world["student"], summary, "book:confirm")

    [row] = await bookings(coachbot)
    assert row.status == "confirmed"
    text = done.of_kind("followup").last.content
    assert text.startswith("✅ You're booked")
    assert "Still being set up on Discord: role. Your booking is confirmed" in text
    assert role not in guild.get_member(world["student"].id).roles
    [report] = await history(world["server"].log_channel)
    assert f"Booking #{row.id}" in report.content

    set_role_position(role, 0)  # the admin fixes the role order
    first = await retry_unfinished(coachbot)
    again = await retry_unfinished(coachbot)

    assert [o.booking_id for o in first.outcomes] == [row.id] and first.outcomes[0].complete
    assert again.outcomes == ()
    assert role in guild.get_member(world["student"].id).roles
    async with coachbot.services.uow() as uow:
        grants = await uow.session.scalar(select(func.count()).select_from(RoleGrant))
    assert grants == 1
    assert len(await history(world["student"].dm_channel)) == 1


async def test_a_crash_inside_provisioning_still_tells_the_student_they_are_booked(
        coachbot, driver, world, monkeypatch):
    await seed_offering(coachbot, world["coach"])
    summary = (await to_summary(driver, world["student"])).last

    async def crash(bot, booking_id):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("bot.confirmations.provision_booking", crash)
    with driver.expect_error_log("provisioning booking \\d+ raised") as logged:
        done = await driver.click(world["student"], summary, "book:confirm")

    assert len(logged) == 1
    [row] = await bookings(coachbot)
    assert row.status == "confirmed"
    text = done.of_kind("followup").last.content
    assert text.startswith("✅ You're booked") and "I retry automatically" in text


# ---------------------------------------------------------------- paid offerings


async def test_a_paid_offering_stops_at_the_summary_and_holds_nothing(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"], title="Deep dive", price_minor=2500)
    summary = (await to_summary(driver, world["student"])).last
    assert fields(summary.embeds[0])["Price"] == "$25.00"
    assert "Paying for sessions is not available on this server yet" in summary.content
    assert "nothing was booked or reserved" in summary.content
    assert "book:confirm" not in summary.custom_ids
    assert await bookings(coachbot) == []


# ---------------------------------------------------------------- choosing coach and offering


async def test_without_options_pick_a_coach_then_an_offering_and_go_back(coachbot, driver,
                                                                        world):
    carla = world["coach"]
    await seed_offering(coachbot, carla)
    await seed_offering(coachbot, carla, title="CV review", duration_minutes=30,
                        capacity=3)
    other = await seed_coach(coachbot, world["other"], name="Bea")
    await seed_offering(coachbot, other, title="Pitch practice", price_minor=1000)
    student = world["student"]

    coaches = (await driver.slash(student, "book")).last
    assert [(o["label"], o["description"]) for o in coaches.component("book:coach")["options"]] == [
        ("Bea", "1 offering · $10.00"), ("Coach Carla", "2 offerings · Free")]
    assert "book:back" not in coaches.custom_ids
    offerings = (await driver.select(student, coaches, "book:coach", [str(carla.id)])).last
    assert [(o["label"], o["description"]) for o in
            offerings.component("book:offering")["options"]] == [
        ("Mock interview", "1 h · Free"), ("CV review", "30 min · Free · group of up to 3")]
    back = (await driver.click(student, offerings, "book:back")).last
    assert back.component("book:coach")
    offerings = (await driver.select(student, back, "book:coach", [str(carla.id)])).last
    days = (await driver.select(student, offerings, "book:offering",
                                [option(offerings, "book:offering", "CV review")])).last
    assert days.content.startswith("**CV review** with **Coach Carla** · 30 min · Free")
    times = (await driver.select(student, days, "book:day", [TUE_DAY])).last
    summary = (await driver.select(student, times, "book:slot",
                                   [option(times, "book:slot", "09:30")])).last
    assert fields(summary.embeds[0])["Duration"] == "30 min"
    times_again = (await driver.click(student, summary, "book:back")).last
    assert times_again.component("book:slot")
    days_again = (await driver.click(student, times_again, "book:back")).last
    assert days_again.component("book:day")
    assert (await driver.click(student, days_again, "book:back")).last.component("book:offering")


async def test_autocomplete_lists_bookable_coaches_and_their_published_offerings(
        coachbot, driver, world):
    carla = world["coach"]
    mock = await seed_offering(coachbot, carla)
    await seed_offering(coachbot, carla, title="Draft thing", status="draft")
    bea = await seed_coach(coachbot, world["other"], name="Bea")
    pitch = await seed_offering(coachbot, bea, title="Pitch practice", price_minor=1000)
    student = world["student"]

    coaches = await driver.autocomplete(student, "book", focused="coach", value="")
    assert [(c.name, c.value) for c in coaches] == [("Bea", str(bea.id)),
                                                    ("Coach Carla", str(carla.id))]
    assert [c.value for c in await driver.autocomplete(student, "book", focused="coach",
                                                       value="carl")] == [str(carla.id)]
    everything = await driver.autocomplete(student, "book", focused="offering", value="")
    assert [(c.name, c.value) for c in everything] == [
        ("Mock interview · Coach Carla · Free", str(mock.id)),
        ("Pitch practice · Bea · $10.00", str(pitch.id))]
    only_bea = await driver.autocomplete(student, "book", focused="offering", value="",
                                         coach=str(bea.id))
    assert [c.value for c in only_bea] == [str(pitch.id)]
    zones = await driver.autocomplete(student, "book", focused="timezone", value="berlin")
    assert zones[0].value == "Europe/Berlin"


async def test_an_offering_of_another_coach_is_refused(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"])
    bea = await seed_coach(coachbot, world["other"], name="Bea")
    pitch = await seed_offering(coachbot, bea, title="Pitch practice")
    reply = (await driver.slash(world["student"], "book", coach=str(world["coach"].id),
                                offering=str(pitch.id))).last
    assert reply.ephemeral and reply.content.startswith("That offering is not Coach Carla's")


@pytest.mark.parametrize("options", [{"coach": "Nobody"}, {"offering": "Underwater basket"},
                                     {"timezone": "Mars/Olympus"}])
async def test_unknown_options_are_refused_with_the_way_forward(coachbot, driver, world,
                                                                options):
    await seed_offering(coachbot, world["coach"])
    reply = (await driver.slash(world["student"], "book", **options)).last
    assert reply.ephemeral and reply.components == []
    assert "list" in reply.content or "suggestions" in reply.content
    assert await preference_rows(coachbot) == []


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(coach=st.none() | st.text(max_size=40), offering=st.none() | st.text(max_size=40),
       timezone=st.none() | st.text(max_size=40))
@example(coach="¹", offering="²", timezone=None)  # digits for str.isdigit() that int() refuses
async def test_fuzzed_options_never_crash_and_never_book(coachbot, driver, world, coach,
                                                         offering, timezone):
    if "offering" not in world:  # the fixture is shared by every example
        world["offering"] = await seed_offering(coachbot, world["coach"])
    reply = (await driver.slash(world["student"], "book", coach=coach, offering=offering,
                                timezone=timezone)).last
    assert reply.ephemeral
    assert await bookings(coachbot) == []


# ---------------------------------------------------------------- timezones


async def test_the_timezone_option_is_remembered_and_labels_days_and_times(coachbot, driver,
                                                                          world):
    await seed_offering(coachbot, world["coach"])  # Mon-Fri 09:00-17:00 UTC
    student = world["student"]

    tokyo = (await driver.slash(student, "book", timezone="Asia/Tokyo")).last
    assert "your timezone, Asia/Tokyo (UTC+09:00, JST)" in tokyo.content
    labels = [o["label"] for o in tokyo.component("book:day")["options"]]
    # Monday 10:00-14:00 UTC is Monday evening in Tokyo; 15:00 and 16:00 UTC are Tuesday.
    assert labels[:2] == ["Mon 23 Nov · 5 times", "Tue 24 Nov · 8 times"]
    times = (await driver.select(student, tokyo, "book:day", ["2026-11-24"])).last
    assert [o["label"] for o in times.component("book:slot")["options"]] == [
        "00:00", "01:00", "18:00", "19:00", "20:00", "21:00", "22:00", "23:00"]
    [row] = await preference_rows(coachbot)
    assert (row.user_id, row.timezone) == (student.id, "Asia/Tokyo")

    again = (await driver.slash(student, "book")).last  # remembered
    assert "your timezone, Asia/Tokyo" in again.content


async def test_a_coach_in_another_timezone_is_shown_in_theirs_until_the_student_says(
        coachbot, driver, guild, members):
    await setup_server(coachbot, guild)
    coach = await seed_coach(coachbot, members[2], name="Kai", timezone="America/New_York")
    await seed_offering(coachbot, coach)
    reply = (await driver.slash(members[0], "book")).last
    assert "coach's timezone, America/New_York (UTC-05:00, EST)" in reply.content
    times = (await driver.select(members[0], reply, "book:day", [TUE_DAY])).last
    assert times.component("book:slot")["options"][0]["label"] == "09:00"


# ---------------------------------------------------------------- paging, expiry, cancel


async def test_more_than_25_times_in_a_day_are_paged(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"], duration_minutes=15, interval_minutes=15)
    times = await driver.slash(world["student"], "book")
    times = (await driver.select(world["student"], times.last, "book:day", [TUE_DAY])).last
    first_page = [o["label"] for o in times.component("book:slot")["options"]]
    assert len(first_page) == 25 and first_page[0] == "09:00"
    assert times.component("book:earlier")["disabled"]
    later = (await driver.click(world["student"], times, "book:later")).last
    assert [o["label"] for o in later.component("book:slot")["options"]] == [
        "15:15", "15:30", "15:45", "16:00", "16:15", "16:30", "16:45"]
    assert later.component("book:later")["disabled"]


async def test_a_flow_older_than_15_minutes_has_expired(coachbot, driver, clock, world):
    await seed_offering(coachbot, world["coach"])
    days = (await driver.slash(world["student"], "book")).last
    clock.advance(minutes=16)
    reply = (await driver.select(world["student"], days, "book:day", [TUE_DAY])).last
    assert reply.ephemeral and "Run `/book` again" in reply.content
    assert await bookings(coachbot) == []


async def test_cancel_writes_nothing(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"])
    summary = (await to_summary(driver, world["student"])).last
    reply = (await driver.click(world["student"], summary, "book:cancel")).last
    assert reply.content.startswith("Booking cancelled: nothing was booked")
    assert reply.components == []
    assert await bookings(coachbot) == []


async def test_a_time_taken_while_choosing_is_refused_at_selection(coachbot, driver, world):
    offering = await seed_offering(coachbot, world["coach"])
    times = await driver.slash(world["student"], "book")
    times = (await driver.select(world["student"], times.last, "book:day", [TUE_DAY])).last
    await add_booking(coachbot, offering, world["other"].id, TUE_10)
    reply = (await driver.select(world["student"], times, "book:slot",
                                 [option(times, "book:slot", "10:00")])).last
    assert reply.content.splitlines()[1] == "That time was just taken. Pick another one."
    assert "10:00" not in [o["label"] for o in reply.component("book:slot")["options"]]


async def test_answers_can_be_changed_from_the_summary(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"], questions=QUESTIONS[:1])
    summary = await to_summary(driver, world["student"], answers={"q0": "Algorithms"})
    reopened = await driver.click(world["student"], summary.last, "book:answers")
    assert reopened.last.modal.fields["q0"]["value"] == "Algorithms"
    changed = (await driver.submit_modal(world["student"], reopened, {"q0": "Graphs"})).last
    assert fields(changed.embeds[0])["What do you want to practise?"] == "Graphs"


async def test_a_day_without_free_times_left_sends_back_to_the_days(coachbot, driver, world):
    offering = await seed_offering(coachbot, world["coach"], max_per_day=1)
    days = (await driver.slash(world["student"], "book")).last
    await add_booking(coachbot, offering, world["other"].id, at(TUE, 15))
    reply = (await driver.select(world["student"], days, "book:day", [TUE_DAY])).last
    assert "No free times are left on that day" in reply.content
    assert TUE_DAY not in [o["value"] for o in reply.component("book:day")["options"]]


async def test_no_free_times_at_all(coachbot, driver, world):
    await seed_offering(coachbot, world["coach"], booking_window_days=1, min_notice_minutes=1440)
    reply = (await driver.slash(world["student"], "book")).last
    assert "There are no free times in the next 1 days" in reply.content
    assert reply.custom_ids == ["book:cancel"]
