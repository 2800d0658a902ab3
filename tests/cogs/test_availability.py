"""`/availability ...` end to end through the interaction driver.

The fake clock starts on Monday 2026-11-23 09:00 UTC; coaches here default to UTC.
"""

from datetime import date

import pytest

from scheduling.coach_access import NOT_A_COACH
from tests.harness import CommandUnavailableError

MONDAY, TUESDAY, WEDNESDAY = 0, 1, 2


async def grant(bot, guild, member):
    async with bot.services.uow() as uow:
        await uow.coach_grants.add(guild.id, "member", member.id)
        await uow.commit()


@pytest.fixture
async def coach(coachbot, guild, members):
    await grant(coachbot, guild, members[0])
    return members[0]


async def week(bot, guild, member, schedule="default"):
    async with bot.services.uow() as uow:
        row = await uow.coaches.get_by_user(guild.id, member.id)
        if row is None:
            return None
        found = await uow.schedules.get_by_name(row.id, schedule)
        if found is None:
            return None
        return [(w.weekday, w.start_minute, w.end_minute)
                for w in await uow.schedules.windows(found.id)]


async def overrides(bot, guild, member, schedule="default"):
    async with bot.services.uow() as uow:
        row = await uow.coaches.get_by_user(guild.id, member.id)
        found = await uow.schedules.get_by_name(row.id, schedule)
        return [(o.day, o.start_minute, o.end_minute)
                for o in await uow.schedules.overrides(found.id)]


async def everything(bot):
    """Every row a command could write, to show that a refused command wrote nothing."""
    from sqlalchemy import select

    from storage.models import AvailabilityWindow, Coach, DateOverride, Schedule

    async with bot.services.uow() as uow:
        return {model.__name__: len((await uow.session.scalars(select(model))).all())
                for model in (Coach, Schedule, AvailabilityWindow, DateOverride)}


# ---------------------------------------------------------------- add, remove, clear


async def test_add_merges_touching_windows_and_says_so(coachbot, driver, guild, coach):
    first = (await driver.slash(coach, "availability add", weekday=MONDAY, start="9",
                                end="12:00")).last
    assert first.ephemeral
    assert first.content == ("Added Monday 09:00–12:00 to your default schedule (times in UTC)."
                             "\nMonday: 09:00–12:00.")
    apart = (await driver.slash(coach, "availability add", weekday=MONDAY, start="1pm",
                                end="5pm")).last
    assert apart.content.endswith("Monday: 09:00–12:00, 13:00–17:00.")
    merged = (await driver.slash(coach, "availability add", weekday=MONDAY, start="11:30",
                                 end="13")).last
    assert "so they were merged: Monday is now 09:00–17:00." in merged.content
    assert await week(coachbot, guild, coach) == [(MONDAY, 540, 1020)]
    inside = (await driver.slash(coach, "availability add", weekday=MONDAY, start="10",
                                 end="11")).last
    assert "already within your hours" in inside.content


async def test_add_to_a_named_schedule_creates_it(coachbot, driver, guild, coach):
    reply = (await driver.slash(coach, "availability add", weekday=TUESDAY, start="18",
                                end="24:00", schedule="Evenings")).last
    assert reply.content.startswith("Created your schedule `evenings` (timezone UTC).")
    assert await week(coachbot, guild, coach, "evenings") == [(TUESDAY, 1080, 1440)]
    assert await week(coachbot, guild, coach) is None
    choices = await driver.autocomplete(coach, "availability list", focused="schedule",
                                        value="eve")
    assert [c.value for c in choices] == ["evenings"]


async def test_remove_splits_a_window_or_says_nothing_matched(coachbot, driver, guild, coach):
    await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="17")
    reply = (await driver.slash(coach, "availability remove", weekday=MONDAY, start="12",
                                end="13")).last
    assert reply.content == ("Removed Monday 12:00–13:00 from your default schedule. "
                             "Monday: 09:00–12:00, 13:00–17:00.")
    assert await week(coachbot, guild, coach) == [(MONDAY, 540, 720), (MONDAY, 780, 1020)]
    before = await everything(coachbot)
    nothing = (await driver.slash(coach, "availability remove", weekday=MONDAY, start="12",
                                  end="13")).last
    assert nothing.ephemeral
    assert nothing.content.startswith("Nothing to remove: Monday has no hours between 12:00 "
                                      "and 13:00")
    assert await everything(coachbot) == before


async def test_clear_one_day_or_the_week(coachbot, driver, guild, coach):
    await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="17")
    await driver.slash(coach, "availability add", weekday=TUESDAY, start="9", end="12")
    await driver.slash(coach, "availability override", date="2026-11-25", off=True)
    one = (await driver.slash(coach, "availability clear", weekday=MONDAY)).last
    assert one.content.startswith("Cleared Monday in your default schedule "
                                  "(was: Monday 09:00–17:00).")
    assert await week(coachbot, guild, coach) == [(TUESDAY, 540, 720)]
    again = (await driver.slash(coach, "availability clear", weekday=MONDAY)).last
    assert again.content == "Monday had no weekly hours in your default schedule; nothing to clear."
    everything_ = (await driver.slash(coach, "availability clear")).last
    assert "Cleared all weekly hours" in everything_.content
    assert await week(coachbot, guild, coach) == []
    assert await overrides(coachbot, guild, coach) == [(date(2026, 11, 25), None, None)]


# ---------------------------------------------------------------- list


async def test_list_shows_the_week_in_the_coachs_zone_and_as_discord_timestamps(
        coachbot, driver, guild, coach):
    await driver.slash(coach, "availability timezone", name="Europe/Berlin")
    await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="12")
    await driver.slash(coach, "availability add", weekday=MONDAY, start="13", end="17")
    await driver.slash(coach, "availability add", weekday=TUESDAY, start="8", end="9")
    await driver.slash(coach, "availability override", date="2026-11-24", off=True)
    await driver.slash(coach, "availability override", date="2026-12-02", start="10", end="11")
    reply = (await driver.slash(coach, "availability list")).last
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert embed.title == f"Availability of {coach.display_name}"
    assert embed.description.splitlines() == [
        "Times in Europe/Berlin (UTC+01:00, CET)",
        "Monday: 09:00–12:00, 13:00–17:00", "Tuesday: 08:00–09:00",
        "Wednesday: unavailable", "Thursday: unavailable", "Friday: unavailable",
        "Saturday: unavailable", "Sunday: unavailable"]
    by_name = {f.name: f.value for f in embed.fields}
    # Monday 09:00 Berlin = 08:00 UTC (1795420800); Tuesday 24 Nov is off, so 1 Dec 07:00 UTC.
    assert by_name["Next times, in your own timezone"].splitlines() == [
        "Mon <t:1795420800:f> – <t:1795431600:t>",
        "Mon <t:1795435200:f> – <t:1795449600:t>",
        "Tue <t:1796108400:f> – <t:1796112000:t>"]
    assert by_name["Date overrides (replace the weekly hours of that day)"].splitlines() == [
        "Tue 24 Nov 2026: off",
        "Wed 2 Dec 2026: 10:00–11:00 (<t:1796202000:f> – <t:1796205600:t>)"]


async def test_list_of_an_empty_week_says_how_to_add_hours_and_can_be_shared(
        coachbot, driver, guild, coach):
    private = (await driver.slash(coach, "availability list")).last
    assert "add some with `/availability add`" in private.embeds[0].description
    shared = (await driver.slash(coach, "availability list", share=True)).last
    assert not shared.ephemeral
    assert shared.allowed_mentions == {"parse": []}


async def test_list_of_an_unknown_schedule_names_the_existing_ones(coachbot, driver, guild,
                                                                   coach):
    await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="10",
                       schedule="evenings")
    reply = (await driver.slash(coach, "availability list", schedule="weekends")).last
    assert reply.ephemeral
    assert "no schedule called `weekends`" in reply.content
    assert "Your schedules: default, evenings." in reply.content


async def test_a_long_week_fits_in_one_embed(coachbot, driver, guild, coach):
    for weekday in range(7):
        for hour in range(0, 24, 2):
            await driver.slash(coach, "availability add", weekday=weekday, start=str(hour),
                               end=f"{hour}:30")
    for offset in range(25):
        await driver.slash(coach, "availability override",
                           date=f"2026-12-{offset + 1:02d}", start="1", end="2")
    reply = (await driver.slash(coach, "availability list")).last  # the harness checks limits
    values = [f.value for f in reply.embeds[0].fields]
    assert values[0].endswith("more") and values[1].endswith("more")


# ---------------------------------------------------------------- overrides


async def test_override_blocks_a_day_or_replaces_its_hours(coachbot, driver, guild, coach):
    await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="17")
    off = (await driver.slash(coach, "availability override", date="2026-11-30",
                              off=True)).last
    assert off.ephemeral
    assert off.content.startswith("Blocked Mon 30 Nov 2026 in your default schedule: no new "
                                  "sessions can be booked that day (its weekly hours are "
                                  "09:00–17:00).")
    hours = (await driver.slash(coach, "availability override", date="2026-11-30",
                                start="18", end="20")).last
    assert hours.content.startswith("On Mon 30 Nov 2026 you are available 18:00–20:00 (times "
                                    "in UTC) instead of your weekly hours (09:00–17:00).")
    assert "was blocked before" in hours.content
    merged = (await driver.slash(coach, "availability override", date="2026-11-30",
                                 start="19", end="21")).last
    assert "Merged with the hours you had already set" in merged.content
    assert await overrides(coachbot, guild, coach) == [(date(2026, 11, 30), 1080, 1260)]

    cleared = (await driver.slash(coach, "availability override-clear", date="2026-11-30")).last
    assert cleared.content == ("Removed the override of Mon 30 Nov 2026 (was 18:00–21:00) from "
                               "your default schedule. Its weekly hours apply again: "
                               "09:00–17:00.")
    assert await overrides(coachbot, guild, coach) == []
    missing = (await driver.slash(coach, "availability override-clear", date="2026-11-30")).last
    assert missing.ephemeral and "has no override" in missing.content


async def test_override_date_autocomplete_offers_the_next_two_weeks(coachbot, driver, guild,
                                                                    coach):
    choices = await driver.autocomplete(coach, "availability override", focused="date")
    assert len(choices) == 14
    assert (choices[0].name, choices[0].value) == ("Mon 23 Nov 2026", "2026-11-23")
    assert (choices[-1].name, choices[-1].value) == ("Sun 6 Dec 2026", "2026-12-06")
    december = await driver.autocomplete(coach, "availability override", focused="date",
                                         value="dec")
    assert [c.value for c in december][:2] == ["2026-12-01", "2026-12-02"]
    # A coach in Kiritimati (UTC+14) is already on Monday evening; in Honolulu it is Sunday.
    await driver.slash(coach, "availability timezone", name="Pacific/Honolulu")
    choices = await driver.autocomplete(coach, "availability override", focused="date")
    assert choices[0].value == "2026-11-22"


async def test_override_clear_autocomplete_lists_upcoming_overrides(coachbot, driver, guild,
                                                                    coach):
    await driver.slash(coach, "availability override", date="2026-11-30", off=True)
    await driver.slash(coach, "availability override", date="2026-12-01", start="9", end="10")
    choices = await driver.autocomplete(coach, "availability override-clear", focused="date")
    assert [(c.name, c.value) for c in choices] == [
        ("Mon 30 Nov 2026 · off", "2026-11-30"),
        ("Tue 1 Dec 2026 · 09:00–10:00", "2026-12-01")]


# ---------------------------------------------------------------- timezone


async def test_timezone_of_the_default_schedule_is_the_profile_timezone(coachbot, driver,
                                                                        guild, coach):
    await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="17")
    choices = await driver.autocomplete(coach, "availability timezone", focused="name",
                                        value="berlin")
    assert (choices[0].name, choices[0].value) == ("Europe/Berlin (UTC+01:00, CET)",
                                                   "Europe/Berlin")
    reply = (await driver.slash(coach, "availability timezone", name="Europe/Berlin")).last
    assert reply.ephemeral
    assert reply.content.startswith("Your default schedule now uses Europe/Berlin "
                                    "(UTC+01:00, CET); so does your coach profile.")
    async with coachbot.services.uow() as uow:
        row = await uow.coaches.get_by_user(guild.id, coach.id)
        assert row.timezone == "Europe/Berlin"
    assert await week(coachbot, guild, coach) == [(MONDAY, 540, 1020)]
    named = (await driver.slash(coach, "availability add", weekday=MONDAY, start="18",
                                end="20", schedule="evenings")).last
    assert "(timezone Europe/Berlin)" in named.content  # new schedules start in the coach's zone
    reply = (await driver.slash(coach, "availability timezone", name="Asia/Tokyo",
                                schedule="evenings")).last
    assert reply.content.startswith("Your schedule `evenings` now uses Asia/Tokyo")
    assert "coach profile" not in reply.content


# ---------------------------------------------------------------- bad input


ALL_COMMANDS = [
    ("availability add", {"weekday": MONDAY, "start": "9", "end": "17"}),
    ("availability remove", {"weekday": MONDAY, "start": "9", "end": "17"}),
    ("availability clear", {}),
    ("availability list", {}),
    ("availability override", {"date": "2026-11-30", "off": True}),
    ("availability override-clear", {"date": "2026-11-30"}),
    ("availability timezone", {"name": "Europe/Berlin"}),
]


@pytest.mark.parametrize(("command", "options"), ALL_COMMANDS)
async def test_non_coaches_are_refused_and_nothing_is_written(coachbot, driver, members,
                                                              command, options):
    before = await everything(coachbot)
    reply = (await driver.slash(members[1], command, **options)).last
    assert reply.ephemeral
    assert reply.content == NOT_A_COACH
    assert await everything(coachbot) == before


@pytest.mark.parametrize(("command", "options"), ALL_COMMANDS)
async def test_availability_commands_need_a_server(driver, members, command, options):
    with pytest.raises(CommandUnavailableError):
        await driver.slash(members[0], command, dm=True, **options)


@pytest.mark.parametrize(("command", "options", "message"), [
    ("availability add", {"weekday": MONDAY, "start": "17", "end": "9"},
     "The end (09:00) must be after the start (17:00)"),
    ("availability add", {"weekday": MONDAY, "start": "9", "end": "25:00"},
     "`25:00` is not a time of day"),
    ("availability add", {"weekday": MONDAY, "start": "nine", "end": "17"},
     "`nine` is not a time of day"),
    ("availability remove", {"weekday": MONDAY, "start": "13", "end": "12"},
     "must be after the start"),
    ("availability override", {"date": "2026-11-30", "start": "9", "end": "25:00"},
     "`25:00` is not a time of day"),
    ("availability override", {"date": "30.11.2026", "off": True},
     "`30.11.2026` is not a date. Use YYYY-MM-DD"),
    ("availability override", {"date": "2026-11-22", "off": True},
     "Sun 22 Nov 2026 is in the past"),
    ("availability override", {"date": "2027-11-25", "off": True},
     "more than 366 days ahead"),
    ("availability override", {"date": "2026-11-30"}, "Say what Mon 30 Nov 2026 should be"),
    ("availability override", {"date": "2026-11-30", "off": True, "start": "9", "end": "10"},
     "not both"),
    ("availability override", {"date": "2026-11-30", "start": "9"},
     "Give both `start` and `end`"),
    ("availability override-clear", {"date": "someday"}, "`someday` is not a date"),
    ("availability timezone", {"name": "Mars/Olympus"}, "Unknown timezone `Mars/Olympus`"),
    ("availability add", {"weekday": MONDAY, "start": "9", "end": "10",
                          "schedule": "x" * 41}, "at most 40 characters"),
])
async def test_bad_input_gets_an_ephemeral_message_and_writes_nothing(
        coachbot, driver, guild, coach, command, options, message):
    await driver.slash(coach, "availability add", weekday=WEDNESDAY, start="9", end="10")
    before = await everything(coachbot)
    reply = (await driver.slash(coach, command, **options)).last
    assert reply.ephemeral
    assert message in reply.content
    assert await everything(coachbot) == before


async def test_mentions_in_schedule_names_never_ping(coachbot, driver, guild, coach):
    name = f"@everyone <@&{guild.default_role.id}>"
    reply = (await driver.slash(coach, "availability add", weekday=MONDAY, start="9", end="10",
                                schedule=name)).last
    assert f"your schedule `{name.lower()}`" in reply.content
    assert reply.allowed_mentions == {"parse": []}
