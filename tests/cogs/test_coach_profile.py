"""`/coach profile` and `/coach show` end to end through the interaction driver."""

import pytest

from scheduling.coach_access import NOT_A_COACH
from tests.harness import CommandUnavailableError


async def grant(bot, guild, member):
    async with bot.services.uow() as uow:
        await uow.coach_grants.add(guild.id, "member", member.id)
        await uow.commit()


async def stored_coach(bot, guild, member):
    async with bot.services.uow() as uow:
        return await uow.coaches.get_by_user(guild.id, member.id)


def fields(response):
    return {f.name: f.value for f in response.embeds[0].fields}


PROFILE = {"display_name": "Ada Lovelace", "bio": "I coach novelists.",
           "specialties": " query letters, Poetry ,poetry,  sci-fi ", "hourly_rate": "40",
           "credentials": "MFA, 10 published novels"}


async def test_profile_form_is_prefilled_and_saving_shows_the_card(coachbot, driver, guild,
                                                                   members):
    coach = members[0]
    await grant(coachbot, guild, coach)
    opened = await driver.slash(coach, "coach profile")
    modal = opened.modal
    assert modal.title == "Your coach profile"
    assert set(modal.fields) == {"display_name", "bio", "specialties", "hourly_rate",
                                 "credentials"}
    assert modal.fields["display_name"]["value"] == coach.display_name
    assert modal.fields["hourly_rate"]["label"] == "Hourly rate in USD (empty: not shown)"
    assert await stored_coach(coachbot, guild, coach) is None  # nothing written until submit

    saved = (await driver.submit_modal(coach, opened, PROFILE)).last
    assert saved.ephemeral
    assert saved.content.startswith("Profile saved.")
    card = saved.embeds[0]
    assert card.title == "Ada Lovelace"
    assert card.description == "I coach novelists."
    assert card.thumbnail.url == coach.display_avatar.url
    assert fields(saved) == {
        "Specialties": "query letters, Poetry, sci-fi", "Rate": "$40.00/hour",
        "Rating": "No ratings yet", "Sessions completed": "0",
        "Experience": "MFA, 10 published novels", "Timezone": "UTC (UTC+00:00)"}

    row = await stored_coach(coachbot, guild, coach)
    assert (row.display_name, row.specialties, row.hourly_rate_minor, row.currency) == (
        "Ada Lovelace", ["query letters", "Poetry", "sci-fi"], 4000, "USD")
    assert row.avatar_url is None  # the Discord avatar, looked up when shown

    again = (await driver.slash(coach, "coach profile")).modal
    assert {k: f.get("value") for k, f in again.fields.items()} == {
        "display_name": "Ada Lovelace", "bio": "I coach novelists.",
        "specialties": "query letters, Poetry, sci-fi", "hourly_rate": "40.00",
        "credentials": "MFA, 10 published novels"}


async def test_options_set_timezone_years_and_avatar(coachbot, driver, guild, members):
    coach = members[0]
    await grant(coachbot, guild, coach)
    await driver.slash(coach, "availability add", weekday=0, start="9", end="17")
    opened = await driver.slash(coach, "coach profile", timezone="Asia/Tokyo", years=7,
                                avatar_url="https://images.example/ada.png")
    saved = (await driver.submit_modal(coach, opened, {"hourly_rate": ""})).last
    assert saved.embeds[0].thumbnail.url == "https://images.example/ada.png"
    assert fields(saved)["Experience"] == "7 years of experience"
    assert fields(saved)["Timezone"] == "Asia/Tokyo (UTC+09:00, JST)"
    assert "Rate" not in fields(saved)  # empty rate: not shown
    assert "default schedule now uses Asia/Tokyo" in saved.content
    async with coachbot.services.uow() as uow:
        row = await uow.coaches.get_by_user(guild.id, coach.id)
        schedule = await uow.schedules.get_by_name(row.id, "default")
    assert (row.timezone, row.years_experience, row.avatar_url) == (
        "Asia/Tokyo", 7, "https://images.example/ada.png")
    assert schedule.timezone == "Asia/Tokyo"

    # Left out, options keep their values; `discord` goes back to the Discord avatar.
    opened = await driver.slash(coach, "coach profile", avatar_url="discord")
    saved = (await driver.submit_modal(coach, opened, {})).last
    assert saved.embeds[0].thumbnail.url == coach.display_avatar.url
    row = await stored_coach(coachbot, guild, coach)
    assert (row.timezone, row.years_experience, row.avatar_url) == ("Asia/Tokyo", 7, None)


async def test_rate_is_in_the_servers_currency(coachbot, driver, guild, members):
    coach = members[0]
    await grant(coachbot, guild, coach)
    async with coachbot.services.uow() as uow:
        (await uow.guild_settings.get_or_create(guild.id)).currency = "EUR"
        await uow.commit()
    opened = await driver.slash(coach, "coach profile")
    assert opened.modal.fields["hourly_rate"]["label"] == "Hourly rate in EUR (empty: not shown)"
    saved = (await driver.submit_modal(coach, opened, {"hourly_rate": "45,50"})).last
    assert fields(saved)["Rate"] == "€45.50/hour"
    row = await stored_coach(coachbot, guild, coach)
    assert (row.hourly_rate_minor, row.currency) == (4550, "EUR")


async def test_timezone_autocomplete_matches_cities_and_abbreviations(driver, guild, members):
    choices = await driver.autocomplete(members[0], "coach profile", focused="timezone",
                                        value="kolkata")
    assert [(c.name, c.value) for c in choices] == [
        ("Asia/Kolkata (UTC+05:30, IST)", "Asia/Kolkata")]
    est = await driver.autocomplete(members[0], "coach profile", focused="timezone",
                                    value="EST")
    assert "America/New_York" in [c.value for c in est]
    assert len(await driver.autocomplete(members[0], "coach profile", focused="timezone",
                                         value="a")) == 25


async def test_a_role_grant_makes_a_coach(coachbot, driver, guild, members):
    async with coachbot.services.uow() as uow:
        await uow.coach_grants.add(guild.id, "role", guild.default_role.id)
        await uow.commit()
    opened = await driver.slash(members[2], "coach profile")
    assert opened.modal is not None


async def test_non_coaches_are_refused_and_nothing_is_written(coachbot, driver, guild,
                                                              members):
    reply = (await driver.slash(members[1], "coach profile", timezone="Europe/Berlin")).last
    assert reply.ephemeral
    assert reply.content == NOT_A_COACH
    assert reply.modal is None
    assert await stored_coach(coachbot, guild, members[1]) is None


@pytest.mark.parametrize(("options", "message"), [
    ({"timezone": "Mars/Olympus"}, "Unknown timezone `Mars/Olympus`"),
    ({"avatar_url": "https://example.com/profile"}, "does not look like an image"),
    ({"avatar_url": "ftp://example.com/me.png"}, "is not an http(s) link"),
])
async def test_bad_options_are_refused_before_the_form_opens(coachbot, driver, guild, members,
                                                             options, message):
    await grant(coachbot, guild, members[0])
    replies = await driver.slash(members[0], "coach profile", **options)
    assert replies.modal is None
    assert replies.last.ephemeral
    assert message in replies.last.content
    assert await stored_coach(coachbot, guild, members[0]) is None


@pytest.mark.parametrize(("values", "message"), [
    ({"specialties": ", ".join(f"topic {i}" for i in range(11))}, "You listed 11 specialties"),
    ({"specialties": "x" * 41}, "keep each to 40 or fewer"),
    ({"hourly_rate": "-5"}, "cannot be negative"),
    ({"hourly_rate": "lots"}, "`lots` is not an hourly rate"),
    ({"hourly_rate": "2000000"}, "is more than"),
    ({"display_name": "   "}, "display name cannot be empty"),
])
async def test_bad_form_values_are_refused_with_a_way_back_to_the_form(
        coachbot, driver, guild, members, values, message):
    coach = members[0]
    await grant(coachbot, guild, coach)
    opened = await driver.slash(coach, "coach profile")
    typed = {**PROFILE, **values}
    refused = (await driver.submit_modal(coach, opened, typed)).last
    assert refused.ephemeral
    assert message in refused.content
    assert "Nothing was saved" in refused.content
    assert await stored_coach(coachbot, guild, coach) is None

    # "Edit again" reopens the form with what was typed, not the stored profile.
    reopened = await driver.click(coach, refused, "coach-profile:edit-again")
    assert {k: f.get("value") or "" for k, f in reopened.modal.fields.items()} == typed
    fixed = (await driver.submit_modal(coach, reopened, PROFILE)).last
    assert fixed.content.startswith("Profile saved.")
    assert (await stored_coach(coachbot, guild, coach)).display_name == "Ada Lovelace"


async def test_mentions_in_the_bio_are_stored_as_given_and_never_ping(coachbot, driver, guild,
                                                                      members):
    coach = members[0]
    await grant(coachbot, guild, coach)
    text = f"Ask me anything @everyone @here <@&{guild.default_role.id}> <@{members[1].id}>"
    opened = await driver.slash(coach, "coach profile")
    saved = (await driver.submit_modal(coach, opened, {"bio": text, "display_name": "@here",
                                                       "specialties": "@everyone"})).last
    assert saved.embeds[0].description == text
    assert saved.allowed_mentions == {"parse": []}
    row = await stored_coach(coachbot, guild, coach)
    assert (row.bio, row.display_name, row.specialties) == (text, "@here", ["@everyone"])
    shown = (await driver.slash(members[1], "coach show", member=coach)).last
    assert shown.embeds[0].description == text
    assert shown.allowed_mentions == {"parse": []}


async def test_a_coach_removed_while_the_form_is_open_cannot_save(coachbot, driver, guild,
                                                                  members):
    coach = members[0]
    await grant(coachbot, guild, coach)
    opened = await driver.slash(coach, "coach profile")
    async with coachbot.services.uow() as uow:
        await uow.coach_grants.remove(guild.id, "member", coach.id)
        await uow.commit()
    reply = (await driver.submit_modal(coach, opened, PROFILE)).last
    assert reply.ephemeral and reply.content == NOT_A_COACH
    assert await stored_coach(coachbot, guild, coach) is None


async def test_coach_commands_need_a_server(driver, members):
    with pytest.raises(CommandUnavailableError):
        await driver.slash(members[0], "coach profile", dm=True)
    with pytest.raises(CommandUnavailableError):
        await driver.slash(members[0], "coach show", dm=True)


async def test_show_renders_any_coachs_card_with_rating_and_sessions(coachbot, driver, guild,
                                                                     members):
    coach, student = members[0], members[1]
    await grant(coachbot, guild, coach)
    opened = await driver.slash(coach, "coach profile", timezone="Europe/Berlin", years=1)
    await driver.submit_modal(coach, opened, PROFILE)
    async with coachbot.services.uow() as uow:
        row = await uow.coaches.get_by_user(guild.id, coach.id)
        row.rating_sum, row.rating_count, row.sessions_completed = 56, 12, 31
        await uow.commit()

    reply = (await driver.slash(student, "coach show", member=coach)).last
    assert reply.ephemeral
    card = reply.embeds[0]
    assert (card.title, card.description) == ("Ada Lovelace", "I coach novelists.")
    assert card.thumbnail.url == coach.display_avatar.url
    assert fields(reply) == {
        "Specialties": "query letters, Poetry, sci-fi", "Rate": "$40.00/hour",
        "Rating": "4.7 ★ (12 ratings)", "Sessions completed": "31",
        "Experience": "1 year of experience\nMFA, 10 published novels",
        "Timezone": "Europe/Berlin (UTC+01:00, CET)"}
    mine = (await driver.slash(coach, "coach show")).last
    assert mine.embeds[0].title == "Ada Lovelace"


async def test_show_explains_members_without_a_card(coachbot, driver, guild, members):
    reply = (await driver.slash(members[0], "coach show", member=members[1])).last
    assert reply.ephemeral
    assert reply.content == f"{members[1].display_name} is not a coach on this server."
    await grant(coachbot, guild, members[1])
    reply = (await driver.slash(members[0], "coach show", member=members[1])).last
    assert "has not set up a profile yet" in reply.content
    assert await stored_coach(coachbot, guild, members[1]) is None


async def test_discord_itself_keeps_years_between_0_and_80(coachbot, driver, guild, members):
    from tests.harness import InvalidInteractionInput

    await grant(coachbot, guild, members[0])
    for years in (-1, 81):
        with pytest.raises(InvalidInteractionInput, match=r"outside 0\.\.80"):
            await driver.slash(members[0], "coach profile", years=years)
