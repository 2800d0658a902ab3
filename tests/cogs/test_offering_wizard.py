"""`/offering create`: the four-step wizard end to end through discord.py's interaction pipeline.

Each step's buttons, selects and modals; bad input (nothing written, an ephemeral message that
says what to do); Back and Cancel; other members; and a bot restart in the middle of the wizard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend, factories
from sqlalchemy import func, select

from bot.ui import NOT_YOURS
from cogs._offering_wizard import WizardButton
from scheduling.coach_access import NOT_A_COACH
from scheduling.offerings import thumbnail_bytes
from scheduling.policy import Policy
from storage.models import Offering, OfferingQuestion
from storage.models.offerings import OfferingThumbnail
from tests.fixtures_bot import stripe_settings
from tests.harness import CommandUnavailableError, ComponentNotFoundError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
TITLE = "Manuscript review"
CHECKOUT = {"description": "We go through your first chapter together.", "price": "25",
            "duration": "60", "capacity": "1"}


# ---------------------------------------------------------------- helpers shared with
# test_offering_commands.py


async def make_coach(bot, member) -> None:
    async with bot.services.uow() as uow:
        await uow.coach_grants.add(member.guild.id, "member", member.id)
        await uow.commit()


async def offering_rows(bot) -> list[Offering]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(Offering).order_by(Offering.id)))


async def the_offering(bot) -> Offering:
    rows = await offering_rows(bot)
    assert len(rows) == 1, rows
    return rows[0]


async def questions_of(bot, offering_id: int) -> list[tuple[str, str, bool]]:
    async with bot.services.uow() as uow:
        return [(q.label, q.style, q.required) for q in await uow.offerings.questions(offering_id)]


async def start_wizard(driver, member, title: str = TITLE, **options):
    """Run `/offering create` and submit step 1; returns the responses to the submit."""
    opened = await driver.slash(member, "offering create", **options)
    assert opened.modal is not None, opened.ephemeral_text
    return await driver.submit_modal(member, opened, {"title": title})


def button(responses, action: str) -> str:
    """The custom_id of the wizard button for `action` on the last message."""
    ids = [c for c in responses.last.custom_ids if c.endswith(f":{action}")]
    assert len(ids) == 1, responses.last.custom_ids
    return ids[0]


def select_id(responses, what: str) -> str:
    ids = [c for c in responses.last.custom_ids if c.startswith("offering-") and
           c.endswith(f":{what}")]
    assert len(ids) == 1, responses.last.custom_ids
    return ids[0]


async def press(driver, member, responses, action: str):
    return await driver.click(member, responses.last, button(responses, action))


async def modal_step(driver, member, responses, action: str, values: dict):
    opened = await press(driver, member, responses, action)
    assert opened.modal is not None, opened.ephemeral_text
    return await driver.submit_modal(member, opened, values)


async def to_step(driver, member, wizard, step: int):
    current = int(wizard.last.custom_ids[0].split(":")[2])
    while current < step:
        wizard = await press(driver, member, wizard, "next")
        current += 1
    return wizard


def fields(embed: discord.Embed) -> dict[str, str]:
    return {f.name: f.value for f in embed.fields}


@pytest.fixture
async def coach(coachbot, members):
    await make_coach(coachbot, members[0])
    return members[0]


@pytest.fixture
async def wizard(driver, coach):
    return await start_wizard(driver, coach)


# ---------------------------------------------------------------- who may use it


async def test_non_coach_is_told_how_to_become_one_and_nothing_is_written(coachbot, driver,
                                                                        members):
    reply = (await driver.slash(members[1], "offering create")).last
    assert reply.ephemeral
    assert reply.content == NOT_A_COACH
    assert await offering_rows(coachbot) == []


async def test_offering_commands_are_not_offered_in_dms(driver, coach):
    with pytest.raises(CommandUnavailableError, match="not available in DMs"):
        await driver.slash(coach, "offering create", dm=True)


async def test_a_member_of_a_coach_role_may_create(coachbot, driver, members, guild):
    role = await guild.create_role(name="Coaches")
    await members[2].add_roles(role)
    async with coachbot.services.uow() as uow:
        await uow.coach_grants.add(guild.id, "role", role.id)
        await uow.commit()
    await start_wizard(driver, members[2])
    assert (await the_offering(coachbot)).title == TITLE


# ---------------------------------------------------------------- step 1: look


async def test_step_one_creates_a_draft_and_previews_the_card(coachbot, driver, coach):
    opened = await driver.slash(coach, "offering create")
    assert opened.modal.title == "Step 1 · Look"
    assert set(opened.modal.fields) == {"title", "thumbnail_url", "colour"}
    assert opened.modal.fields["title"]["max_length"] == 100

    wizard = await driver.submit_modal(coach, opened, {"title": TITLE, "colour": "#5865F2"})

    reply = wizard.last
    assert reply.ephemeral
    assert "step 1 of 4" in reply.content and TITLE in reply.content
    card, settings = reply.embeds
    assert card.title == TITLE
    assert card.colour.value == 0x5865F2
    assert fields(card)["Price"] == "Free"
    assert fields(settings)["Accent colour"] == "#5865F2"
    offering = await the_offering(coachbot)
    assert (offering.status, offering.draft_step, offering.accent_colour) == ("draft", 1, 0x5865F2)
    assert offering.guild_id == coach.guild.id
    assert button(wizard, "back").endswith(f"{offering.id}:1:back")
    assert reply.component(button(wizard, "back"))["disabled"] is True


async def test_title_with_mentions_is_stored_as_given_and_never_pings(coachbot, driver, coach,
                                                                      guild):
    title = f"@everyone <@&{guild.roles[0].id}> free session"
    wizard = await start_wizard(driver, coach, title=title)
    assert (await the_offering(coachbot)).title == title
    assert title in wizard.last.content
    assert wizard.last.embeds[0].title == title
    assert wizard.last.allowed_mentions == {"parse": []}
    nxt = await press(driver, coach, wizard, "next")
    assert nxt.last.allowed_mentions == {"parse": []}


@pytest.mark.parametrize(("colour", "message"), [
    ("sparkly", "is not a colour"),
    ("#12345G", "is not a colour"),
])
async def test_bad_colour_is_refused_and_no_draft_is_made(coachbot, driver, coach, colour,
                                                          message):
    opened = await driver.slash(coach, "offering create")
    reply = (await driver.submit_modal(coach, opened, {"title": TITLE, "colour": colour})).last
    assert reply.ephemeral and message in reply.content and "#5865F2" in reply.content
    assert await offering_rows(coachbot) == []


async def test_uploaded_thumbnail_is_stored_in_the_database_and_sent_with_the_card(
        coachbot, driver, coach):
    wizard = await start_wizard(driver, coach, thumbnail={
        "filename": "cover.png", "content_type": "image/png", "content": PNG})

    offering = await the_offering(coachbot)
    async with coachbot.services.uow() as uow:
        stored = await uow.session.get(OfferingThumbnail, offering.id)
    assert stored.content_type == "image/png" and stored.size_bytes == len(PNG)
    assert offering.thumbnail_url is None
    sent = wizard.last.files
    assert [f.data for f in sent] == [PNG]
    assert wizard.last.embeds[0].thumbnail.url == f"attachment://{sent[0].filename}"
    assert "uploaded picture" in fields(wizard.last.embeds[1])["Thumbnail"]
    async with coachbot.services.uow() as uow:
        assert await thumbnail_bytes(uow, offering.id) == PNG

    # Editing the look with an empty link field keeps the uploaded picture.
    wizard = await modal_step(driver, coach, wizard, "look", {"title": TITLE, "colour": "red"})
    assert wizard.last.embeds[0].thumbnail.url == f"attachment://{sent[0].filename}"
    assert (await the_offering(coachbot)).accent_colour == 0xED4245

    # The next step keeps the attachment already on the message instead of uploading it again.
    step2 = await press(driver, coach, wizard, "next")
    assert step2.last.files == []
    assert step2.last.embeds[0].thumbnail.url == f"attachment://{sent[0].filename}"
    attachments = driver.message_json(step2.last)["attachments"]
    assert [a["filename"] for a in attachments] == [sent[0].filename]


@pytest.mark.parametrize("upload", [
    {"filename": "notes.txt", "content_type": "text/plain", "content": b"hello"},
    {"filename": "notes.txt", "content_type": None, "content": b"hello"},
    {"filename": "cover.png", "content_type": "application/pdf", "content": b"%PDF-1.4"},
])
async def test_a_thumbnail_that_is_not_an_image_is_refused_before_the_modal(
        coachbot, driver, coach, upload):
    replies = await driver.slash(coach, "offering create", thumbnail=upload)
    assert replies.modal is None
    assert replies.last.ephemeral
    assert "is not an image" in replies.last.content
    assert "PNG, JPEG, GIF or WebP" in replies.last.content
    assert await offering_rows(coachbot) == []


async def test_a_fake_image_is_refused_after_download_and_nothing_is_written(coachbot, driver,
                                                                            coach):
    opened = await driver.slash(coach, "offering create", thumbnail={
        "filename": "cover.png", "content_type": "image/png", "content": b"not really a png"})
    reply = (await driver.submit_modal(coach, opened, {"title": TITLE})).last
    assert reply.ephemeral and "is not a readable image" in reply.content
    assert await offering_rows(coachbot) == []


async def test_a_thumbnail_over_one_megabyte_is_refused(coachbot, driver, coach):
    replies = await driver.slash(coach, "offering create", thumbnail={
        "filename": "huge.png", "content_type": "image/png", "size": 3 * 1024 * 1024})
    assert "at most 1 MB" in replies.last.content
    assert await offering_rows(coachbot) == []


@pytest.mark.parametrize(("link", "message"), [
    ("https://example.com/notes.txt", "not an image"),
    ("https://cdn.discordapp.com/attachments/1/2/cover.png", "stop working after a day"),
    ("ftp://example.com/cover.png", "must start with `https://`"),
])
async def test_bad_thumbnail_links_are_refused(coachbot, driver, coach, link, message):
    opened = await driver.slash(coach, "offering create")
    reply = (await driver.submit_modal(coach, opened, {"title": TITLE,
                                                       "thumbnail_url": link})).last
    assert reply.ephemeral and message in reply.content
    assert await offering_rows(coachbot) == []


async def test_thumbnail_link_edit_and_removal(coachbot, driver, coach, wizard):
    link = "https://example.com/cover.webp"
    edited = await modal_step(driver, coach, wizard, "look",
                              {"title": "Chapter review", "thumbnail_url": link})
    assert edited.last.embeds[0].thumbnail.url == link
    assert edited.last.embeds[0].title == "Chapter review"
    offering = await the_offering(coachbot)
    assert (offering.title, offering.thumbnail_url) == ("Chapter review", link)

    emptied = await modal_step(driver, coach, edited, "look",
                               {"title": "Chapter review", "thumbnail_url": ""})
    assert emptied.last.embeds[0].thumbnail.url is None
    assert (await the_offering(coachbot)).thumbnail_url is None

    edited = await modal_step(driver, coach, emptied, "look",
                              {"title": "Chapter review", "thumbnail_url": link})
    cleared = await press(driver, coach, edited, "clear_thumbnail")
    assert cleared.last.embeds[0].thumbnail.url is None
    assert (await the_offering(coachbot)).thumbnail_url is None
    assert cleared.last.component(button(cleared, "clear_thumbnail"))["disabled"] is True


async def test_the_look_modal_is_prefilled(driver, coach, wizard):
    opened = await press(driver, coach, wizard, "look")
    assert opened.modal.fields["title"]["value"] == TITLE


# ---------------------------------------------------------------- step 2: checkout


@pytest.fixture
async def step2(driver, coach, wizard):
    return await press(driver, coach, wizard, "next")


async def test_step_two_toggles_promotion_codes_at_checkout(coachbot, driver, coach, step2):
    assert fields(step2.last.embeds[1])["Promotion codes"] == "not offered at checkout"
    allowed = await press(driver, coach, step2, "promotions")
    assert (await the_offering(coachbot)).allow_promotion_codes is True
    assert fields(allowed.last.embeds[1])["Promotion codes"] == (
        "students may enter one at checkout")
    assert allowed.last.component(button(allowed, "promotions"))["label"] == (
        "Stop promotion codes")
    await press(driver, coach, allowed, "promotions")
    assert (await the_offering(coachbot)).allow_promotion_codes is False


async def test_step_two_stores_description_price_duration_and_capacity(coachbot, driver, coach,
                                                                      step2):
    assert "step 2 of 4" in step2.last.content
    opened = await press(driver, coach, step2, "checkout")
    assert opened.modal.fields["description"]["max_length"] == 1000
    assert "USD" in opened.modal.fields["price"]["label"]
    done = await driver.submit_modal(coach, opened, {**CHECKOUT, "duration": "1h30",
                                                     "capacity": "8"})

    offering = await the_offering(coachbot)
    assert (offering.price_minor, offering.currency) == (2500, "USD")
    assert (offering.duration_minutes, offering.capacity) == (90, 8)
    assert offering.description == CHECKOUT["description"]
    card = fields(done.last.embeds[0])
    assert card["Price"] == "$25.00"
    assert card["Duration"] == "1 h 30 min"
    assert card["Format"] == "Video call · group of up to 8"
    assert "Still needed" not in done.last.content


async def test_price_uses_the_server_currency(coachbot, driver, coach, step2, guild):
    async with coachbot.services.uow() as uow:
        settings = await uow.guild_settings.get_or_create(guild.id)
        settings.currency = "EUR"
        await uow.commit()
    opened = await press(driver, coach, step2, "checkout")
    assert "EUR" in opened.modal.fields["price"]["label"]
    done = await driver.submit_modal(coach, opened, {**CHECKOUT, "price": "19.50"})
    assert fields(done.last.embeds[0])["Price"] == "€19.50"
    assert (await the_offering(coachbot)).currency == "EUR"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("price", "-5", "cannot be negative"),
    ("price", "1000000", "more than the 100,000 USD"),
    ("price", "twenty", "is not a price"),
    ("duration", "5", "between 15 min and 8 h"),
    ("duration", "500", "between 15 min and 8 h"),
    ("duration", "soon", "is not a duration"),
    ("capacity", "0", "between 1 and 1000"),
    ("capacity", "5000", "between 1 and 1000"),
])
async def test_bad_checkout_input_is_refused_and_nothing_is_written(
        coachbot, driver, coach, step2, field, value, message):
    before = await the_offering(coachbot)
    reply = (await modal_step(driver, coach, step2, "checkout",
                              {**CHECKOUT, field: value})).last
    assert reply.ephemeral
    assert message in reply.content
    after = await the_offering(coachbot)
    assert (after.description, after.price_minor, after.duration_minutes, after.capacity) == (
        before.description, before.price_minor, before.duration_minutes, before.capacity)


async def test_session_type_select(coachbot, driver, coach, step2):
    changed = await driver.select(coach, step2.last, select_id(step2, "session_type"), ["phone"])
    assert (await the_offering(coachbot)).session_type == "phone"
    assert fields(changed.last.embeds[1])["Session type"] == "Phone call"
    options = changed.last.component(select_id(changed, "session_type"))["options"]
    assert [o["value"] for o in options if o.get("default")] == ["phone"]


async def add_question(driver, member, responses, label, style=None, required=None):
    values = {"label": label}
    if style:
        values["style"] = [style]
    if required:
        values["required"] = [required]
    return await modal_step(driver, member, responses, "add_question", values)


async def test_questions_up_to_five_and_a_sixth_is_refused(coachbot, driver, coach, step2):
    current = await add_question(driver, coach, step2, "What is your book about?",
                                 "paragraph", "optional")
    for n in range(2, 6):
        current = await add_question(driver, coach, current, f"Question {n}")
    offering = await the_offering(coachbot)
    stored = await questions_of(coachbot, offering.id)
    assert stored[0] == ("What is your book about?", "paragraph", False)
    assert stored[1:] == [(f"Question {n}", "short", True) for n in range(2, 6)]
    assert "(5/5)" in " ".join(fields(current.last.embeds[1]))

    refused = await press(driver, coach, current, "add_question")
    assert refused.modal is None
    assert refused.last.ephemeral and "at most 5 questions" in refused.last.content
    assert len(await questions_of(coachbot, offering.id)) == 5


async def test_a_question_label_over_45_characters_cannot_be_typed(driver, coach, step2):
    opened = await press(driver, coach, step2, "add_question")
    assert opened.modal.fields["label"]["max_length"] == 45


async def test_removing_a_question_renumbers_the_rest(coachbot, driver, coach, step2):
    current = step2
    for label in ("First", "Second", "Third"):
        current = await add_question(driver, coach, current, label)
    removed = await driver.select(coach, current.last, select_id(current, "remove_question"),
                                  ["1"])
    offering = await the_offering(coachbot)
    assert await questions_of(coachbot, offering.id) == [("First", "short", True),
                                                         ("Third", "short", True)]
    options = removed.last.component(select_id(removed, "remove_question"))["options"]
    assert [o["label"] for o in options] == ["1. First", "2. Third"]


# ---------------------------------------------------------------- step 3: availability


@pytest.fixture
async def step3(driver, coach, step2):
    return await press(driver, coach, step2, "next")


async def test_step_three_uses_the_default_schedule_created_on_the_way(coachbot, driver, coach,
                                                                      step3):
    offering = await the_offering(coachbot)
    async with coachbot.services.uow() as uow:
        schedules = await uow.schedules.list_for_coach(offering.coach_id)
    assert [(s.name, s.is_default) for s in schedules] == [("default", True)]
    assert offering.schedule_id == schedules[0].id
    settings = fields(step3.last.embeds[1])
    assert settings["Schedule"] == "default"
    assert settings["Slot interval"] == "every 1 h (the duration)"
    assert settings["Minimum notice"] == "2 h"
    assert settings["Booking window"] == "60 days ahead"


async def test_step_three_picks_another_schedule(coachbot, driver, coach, step3):
    offering = await the_offering(coachbot)
    async with coachbot.services.uow() as uow:
        evenings = await uow.schedules.create(coach_id=offering.coach_id, name="evenings",
                                              timezone="Europe/Paris")
        await uow.commit()
    refreshed = await press(driver, coach, step3, "back")
    refreshed = await press(driver, coach, refreshed, "next")
    chosen = await driver.select(coach, refreshed.last, select_id(refreshed, "schedule"),
                                 [str(evenings.id)])
    assert (await the_offering(coachbot)).schedule_id == evenings.id
    assert fields(chosen.last.embeds[1])["Schedule"] == "evenings"


TIMING = {"interval": "30", "buffer_before": "10", "buffer_after": "15", "notice": "1d",
          "window_days": "30"}


async def test_step_three_timing_and_limits(coachbot, driver, coach, step3):
    timed = await modal_step(driver, coach, step3, "timing", TIMING)
    limited = await modal_step(driver, coach, timed, "limits",
                               {"max_per_day": "3", "max_per_student": "2"})
    offering = await the_offering(coachbot)
    assert (offering.interval_minutes, offering.buffer_before_minutes,
            offering.buffer_after_minutes, offering.min_notice_minutes,
            offering.booking_window_days) == (30, 10, 15, 1440, 30)
    assert (offering.max_per_day, offering.max_per_student) == (3, 2)
    settings = fields(limited.last.embeds[1])
    assert settings["Buffers"] == "10 min before, 15 min after"
    assert settings["Max per student"] == "2 upcoming"

    # Empty fields mean "the duration" and "no limit".
    opened = await press(driver, coach, limited, "limits")
    assert opened.modal.fields["max_per_day"]["value"] == "3"
    await driver.submit_modal(coach, opened, {"max_per_day": "", "max_per_student": ""})
    offering = await the_offering(coachbot)
    assert (offering.max_per_day, offering.max_per_student) == (None, None)


@pytest.mark.parametrize(("changes", "message"), [
    ({"interval": "3"}, "slot interval must be between 5 min and 12 h"),
    ({"buffer_before": "200"}, "buffer before must be between"),
    ({"window_days": "400"}, "between 1 and 365"),
    ({"notice": "40d"}, "minimum notice must be between"),
    ({"notice": "3d", "window_days": "2"}, "leaves nothing to book"),
])
async def test_bad_timing_is_refused_and_nothing_is_written(coachbot, driver, coach, step3,
                                                            changes, message):
    reply = (await modal_step(driver, coach, step3, "timing", {**TIMING, **changes})).last
    assert reply.ephemeral and message in reply.content
    offering = await the_offering(coachbot)
    assert (offering.interval_minutes, offering.min_notice_minutes,
            offering.booking_window_days) == (None, 120, 60)


async def test_a_limit_of_zero_is_refused(coachbot, driver, coach, step3):
    reply = (await modal_step(driver, coach, step3, "limits",
                              {"max_per_day": "0", "max_per_student": ""})).last
    assert "between 1 and 1000" in reply.content
    assert (await the_offering(coachbot)).max_per_day is None


# ---------------------------------------------------------------- step 4: options


@pytest.fixture
async def step4(driver, coach, step3):
    return await press(driver, coach, step3, "next")


async def test_step_four_policy_override_and_back_to_the_server_default(coachbot, driver,
                                                                        coach, step4):
    settings = fields(step4.last.embeds[1])
    assert "Cancellation policy (server default)" in settings
    custom = await modal_step(driver, coach, step4, "policy",
                              {"tiers": "48h 100%, 12h 50%", "max_reschedules": "2",
                               "reschedule_notice": "12"})
    offering = await the_offering(coachbot)
    policy = Policy.from_dict(offering.policy)
    assert [(t.min_notice_hours, t.refund_percent) for t in policy.tiers] == [(48, 100),
                                                                              (12, 50)]
    assert (policy.max_reschedules, policy.reschedule_min_notice_hours) == (2, 12)
    assert "48 h or more before: 100 % refund" in fields(custom.last.embeds[1])[
        "Cancellation policy"]

    opened = await press(driver, coach, custom, "policy")
    assert opened.modal.fields["tiers"]["value"] == "48h 100%, 12h 50%"
    await driver.submit_modal(coach, opened, {"tiers": "", "max_reschedules": "",
                                              "reschedule_notice": ""})
    assert (await the_offering(coachbot)).policy is None


@pytest.mark.parametrize(("tiers", "message"), [
    ("soon-ish", "is not a refund rule"),
    ("48h 50%, 24h 100%", "More notice must never refund less"),
    ("24h 150%", "between 0 and 100"),
])
async def test_bad_policy_is_refused(coachbot, driver, coach, step4, tiers, message):
    reply = (await modal_step(driver, coach, step4, "policy", {"tiers": tiers})).last
    assert reply.ephemeral and message in reply.content
    assert (await the_offering(coachbot)).policy is None


async def test_reminders_are_parsed_and_limited(coachbot, driver, coach, step4):
    done = await modal_step(driver, coach, step4, "reminders", {"reminders": "1h, 2 days, 15m"})
    assert (await the_offering(coachbot)).reminder_offsets_minutes == [2880, 60, 15]
    assert fields(done.last.embeds[1])["Reminders"] == (
        "2 days before, 1 h before, 15 min before")

    too_many = (await modal_step(driver, coach, done, "reminders",
                                 {"reminders": "1h, 2h, 3h, 4h, 5h, 6h"})).last
    assert too_many.ephemeral and "At most 5 reminders" in too_many.content
    too_close = (await modal_step(driver, coach, done, "reminders", {"reminders": "1m"})).last
    assert "reminder time must be between 5 min and 30 days" in too_close.content
    assert (await the_offering(coachbot)).reminder_offsets_minutes == [2880, 60, 15]


async def test_meeting_location_choices(coachbot, driver, coach, step4):
    generated = await driver.select(coach, step4.last, select_id(step4, "location"),
                                    ["generated"])
    assert (await the_offering(coachbot)).location_kind == "generated"

    opened = await driver.select(coach, generated.last, select_id(generated, "location"),
                                 ["fixed"])
    assert opened.modal is not None
    refused = (await driver.submit_modal(coach, opened, {"location_url": "zoom.us/j/1"})).last
    assert refused.ephemeral and "must start with `https://`" in refused.content
    assert (await the_offering(coachbot)).location_kind == "generated"

    opened = await driver.select(coach, generated.last, select_id(generated, "location"),
                                 ["fixed"])
    fixed = await driver.submit_modal(coach, opened, {"location_url": "https://zoom.us/j/1"})
    offering = await the_offering(coachbot)
    assert (offering.location_kind, offering.location_url) == ("fixed", "https://zoom.us/j/1")
    assert "https://zoom.us/j/1" in fields(fixed.last.embeds[1])["Where"]


async def test_per_offering_role(coachbot, driver, coach, step4, guild):
    club = await guild.create_role(name="Manuscript club")
    role_select = f"offering-role:{(await the_offering(coachbot)).id}:4"
    chosen = await driver.select(coach, step4.last, role_select, [club])
    assert (await the_offering(coachbot)).role_id == club.id
    assert fields(chosen.last.embeds[1])["Role for booked students"] == f"<@&{club.id}>"
    defaults = chosen.last.component(role_select)["default_values"]
    assert [(int(d["id"]), d["type"]) for d in defaults] == [(club.id, "role")]

    cleared = await driver.select(coach, chosen.last, role_select, [])
    assert (await the_offering(coachbot)).role_id is None
    assert fields(cleared.last.embeds[1])["Role for booked students"] == "none"


async def test_a_role_the_bot_cannot_give_is_refused(coachbot, driver, coach, step4, guild):
    offering = await the_offering(coachbot)
    role_id = f"offering-role:{offering.id}:4"
    refused = (await driver.select(coach, step4.last, role_id, [guild.default_role])).last
    assert refused.ephemeral and "@everyone already has every member" in refused.content
    above = await guild.create_role(name="Admins")
    data = factories.dict_from_role(above)  # dpytest cannot move roles: Discord's event does
    data["position"] = guild.me.top_role.position + 1
    backend.get_state().parse_guild_role_update({"guild_id": guild.id, "role": data})
    above = guild.get_role(above.id)
    assert above > guild.me.top_role
    refused = (await driver.select(coach, step4.last, role_id, [above])).last
    assert "above my own highest role" in refused.content
    assert (await the_offering(coachbot)).role_id is None


# ---------------------------------------------------------------- publishing from the wizard


async def filled_step4(driver, coach, wizard, checkout=CHECKOUT):
    step2 = await press(driver, coach, wizard, "next")
    step2 = await modal_step(driver, coach, step2, "checkout", checkout)
    step3 = await press(driver, coach, step2, "next")
    return await press(driver, coach, step3, "next")


async def test_a_free_offering_publishes(coachbot, driver, coach, wizard):
    step4 = await filled_step4(driver, coach, wizard, {**CHECKOUT, "price": "0"})
    published = await press(driver, coach, step4, "publish")
    reply = published.last
    assert "is published" in reply.content
    assert reply.components == []
    assert reply.embeds[0].title == TITLE
    assert "no hours yet" in reply.content  # the coach has not added availability
    assert (await the_offering(coachbot)).status == "published"


async def test_a_paid_offering_needs_stripe(coachbot, driver, coach, wizard):
    step4 = await filled_step4(driver, coach, wizard)
    refused = (await press(driver, coach, step4, "publish")).last
    assert refused.ephemeral
    assert "STRIPE_SECRET_KEY" in refused.content and "STRIPE_WEBHOOK_SECRET" in refused.content
    assert (await the_offering(coachbot)).status == "draft"


async def test_a_paid_offering_publishes_with_stripe(make_coachbot, make_driver, bot_settings):
    bot = await make_coachbot(stripe_settings(bot_settings))
    driver = make_driver(bot)
    member = dpytest.get_config().members[0]
    await make_coach(bot, member)
    wizard = await start_wizard(driver, member)
    step4 = await filled_step4(driver, member, wizard)
    published = (await press(driver, member, step4, "publish")).last
    assert "is published" in published.content
    offering = await the_offering(bot)
    assert (offering.status, offering.price_minor) == ("published", 2500)


async def test_a_draft_without_description_cannot_be_published(coachbot, driver, coach, wizard):
    step4 = await to_step(driver, coach, wizard, 4)
    assert "Still needed before publishing: a description" in step4.last.content
    refused = (await press(driver, coach, step4, "publish")).last
    assert refused.ephemeral and "a description (step 2 · Checkout)" in refused.content
    assert (await the_offering(coachbot)).status == "draft"


# ---------------------------------------------------------------- Back, Cancel, other members


async def test_back_returns_to_the_previous_step_and_remembers_it(coachbot, driver, coach,
                                                                  step3):
    back = await press(driver, coach, step3, "back")
    assert "step 2 of 4" in back.last.content
    assert (await the_offering(coachbot)).draft_step == 2
    back = await press(driver, coach, back, "back")
    assert "step 1 of 4" in back.last.content
    assert (await the_offering(coachbot)).draft_step == 1


async def test_cancel_asks_then_keep_editing_returns(coachbot, driver, coach, step2):
    asked = await press(driver, coach, step2, "cancel")
    assert "Discard the draft" in asked.last.content
    kept = await press(driver, coach, asked, "keep")
    assert "step 2 of 4" in kept.last.content
    assert (await the_offering(coachbot)).status == "draft"


async def test_cancel_then_discard_removes_the_draft_with_its_questions(coachbot, driver, coach,
                                                                        step2):
    with_question = await add_question(driver, coach, step2, "Anything else?")
    asked = await press(driver, coach, with_question, "cancel")
    gone = await press(driver, coach, asked, "discard")
    assert "discarded" in gone.last.content
    assert gone.last.components == []
    assert await offering_rows(coachbot) == []
    async with coachbot.services.uow() as uow:
        assert await uow.session.scalar(select(func.count(OfferingQuestion.id))) == 0


async def test_another_member_cannot_see_the_ephemeral_wizard(driver, members, wizard):
    with pytest.raises(ComponentNotFoundError, match="another user's ephemeral message"):
        await driver.click(members[1], wizard.last, button(wizard, "next"))


async def test_another_member_pressing_the_buttons_is_refused(coachbot, driver, coach, members,
                                                              wizard, guild):
    # Should the buttons ever be visible to someone else, the press is checked again.
    offering = await the_offering(coachbot)
    view = discord.ui.View(timeout=None)
    view.add_item(WizardButton(offering.id, 1, "next", label="Next"))
    view.add_item(WizardButton(offering.id, 1, "cancel", label="Cancel"))
    message = await guild.text_channels[0].send("wizard", view=view)

    await make_coach(coachbot, members[1])  # even another coach
    for action in ("next", "cancel"):
        reply = (await driver.click(members[1], message, f"offering:{offering.id}:1:{action}")).last
        assert reply.ephemeral and reply.content == NOT_YOURS
    assert (await the_offering(coachbot)).draft_step == 1

    moved = (await driver.click(coach, message, f"offering:{offering.id}:1:next")).last
    assert "step 2 of 4" in moved.content


async def test_a_coach_whose_grant_was_removed_cannot_continue(coachbot, driver, coach, wizard):
    async with coachbot.services.uow() as uow:
        await uow.coach_grants.remove(coach.guild.id, "member", coach.id)
        await uow.commit()
    reply = (await press(driver, coach, wizard, "next")).last
    assert reply.ephemeral and reply.content == NOT_A_COACH
    assert (await the_offering(coachbot)).draft_step == 1


async def test_buttons_of_a_discarded_draft_say_so(coachbot, driver, coach, wizard):
    second = await driver.slash(coach, "offering edit", offering=TITLE)  # another wizard message
    asked = await press(driver, coach, wizard, "cancel")
    await press(driver, coach, asked, "discard")
    reply = (await press(driver, coach, second, "next")).last
    assert reply.ephemeral and "no longer exists" in reply.content


# ---------------------------------------------------------------- restart in the middle


@contextlib.contextmanager
def generated_ids(monkeypatch, replay: list[int] | None = None) -> Iterator[list[int]]:
    """Record the ids dpytest generates, or hand out `replay` first, so that a restarted bot
    finds the same guild, channels and members (Discord keeps them across a restart)."""
    real = factories.make_id
    recorded: list[int] = []
    queue = iter(replay or [])

    def make_id() -> int:
        value = next(queue, None)
        if value is None:
            value = real()
        recorded.append(value)
        return value

    monkeypatch.setattr(factories, "make_id", make_id)
    try:
        yield recorded
    finally:
        monkeypatch.setattr(factories, "make_id", real)


async def restart(make_coachbot, make_driver, monkeypatch, old_bot, ids, old_driver, *messages):
    """A new bot process on the same database; Discord still shows the old messages."""
    with generated_ids(monkeypatch, ids):
        bot = await make_coachbot(engine=old_bot.services.engine)
    driver = make_driver(bot)
    for message in messages:
        msg = old_driver.message_json(message)
        driver.recorder.messages[int(msg["id"])] = msg
        driver.recorder.owners[int(msg["id"])] = old_driver.recorder.owners[int(msg["id"])]
    return bot, driver


async def test_the_wizard_continues_after_a_restart(make_coachbot, make_driver, monkeypatch):
    with generated_ids(monkeypatch) as ids:
        bot = await make_coachbot()
    driver = make_driver(bot)
    member = dpytest.get_config().members[0]
    await make_coach(bot, member)
    wizard = await start_wizard(driver, member)
    step2 = await press(driver, member, wizard, "next")
    offering_id = (await the_offering(bot)).id

    bot2, driver2 = await restart(make_coachbot, make_driver, monkeypatch, bot, ids[:],
                                  driver, step2.last)
    member2 = dpytest.get_config().members[0]
    assert member2.id == member.id and bot2 is not bot

    # The old message's buttons still work: a modal, then the next step, on the same draft.
    filled = await modal_step(driver2, member2, step2, "checkout", CHECKOUT)
    assert fields(filled.last.embeds[0])["Price"] == "$25.00"
    step3 = await press(driver2, member2, filled, "next")
    assert "step 3 of 4" in step3.last.content
    offering = await the_offering(bot2)
    assert (offering.id, offering.draft_step, offering.price_minor) == (offering_id, 3, 2500)

    # Back works too, and the draft remembers where it is.
    back = await press(driver2, member2, step3, "back")
    assert "step 2 of 4" in back.last.content
    assert (await the_offering(bot2)).draft_step == 2


async def test_after_a_restart_create_offers_to_resume_the_draft(make_coachbot, make_driver,
                                                                 monkeypatch):
    with generated_ids(monkeypatch) as ids:
        bot = await make_coachbot()
    driver = make_driver(bot)
    member = dpytest.get_config().members[0]
    await make_coach(bot, member)
    wizard = await start_wizard(driver, member)
    await press(driver, member, wizard, "next")

    bot2, driver2 = await restart(make_coachbot, make_driver, monkeypatch, bot, ids[:], driver)
    member2 = dpytest.get_config().members[0]
    prompt = await driver2.slash(member2, "offering create")
    assert prompt.modal is None
    assert "unfinished draft" in prompt.last.content and TITLE in prompt.last.content
    assert "step 2 of 4" in prompt.last.content
    resumed = await press(driver2, member2, prompt, "open")
    assert "step 2 of 4" in resumed.last.content
    assert len(await offering_rows(bot2)) == 1


# ---------------------------------------------------------------- drafts and /offering create


async def test_create_with_a_draft_can_start_a_new_offering(coachbot, driver, coach, wizard):
    prompt = await driver.slash(coach, "offering create")
    opened = await press(driver, coach, prompt, "new")
    second = await driver.submit_modal(coach, opened, {"title": "Pitch practice"})
    assert "**Pitch practice**: new offering, step 1 of 4" in second.last.content
    assert [o.title for o in await offering_rows(coachbot)] == [TITLE, "Pitch practice"]
    # The prompt message itself became the new wizard.
    assert second.last.message_id == prompt.last.message_id


async def test_a_picture_attached_while_a_draft_exists_goes_to_the_chosen_offering(
        coachbot, driver, coach, wizard):
    prompt = await driver.slash(coach, "offering create", thumbnail={
        "filename": "cover.png", "content_type": "image/png", "content": PNG})
    assert prompt.last.files[0].data == PNG
    resumed = await press(driver, coach, prompt, "open")
    offering = await the_offering(coachbot)
    async with coachbot.services.uow() as uow:
        assert await uow.offerings.thumbnail_base64(offering.id) is not None
    assert "step 1 of 4" in resumed.last.content
    names = [a["filename"] for a in driver.message_json(resumed.last)["attachments"]]
    assert len(names) == 1 and names[0].startswith(f"offering-{offering.id}-")
    assert resumed.last.embeds[0].thumbnail.url == f"attachment://{names[0]}"


async def test_a_picture_attached_while_a_draft_exists_can_go_to_a_new_offering(
        coachbot, driver, coach, wizard):
    prompt = await driver.slash(coach, "offering create", thumbnail={
        "filename": "cover.png", "content_type": "image/png", "content": PNG})
    opened = await press(driver, coach, prompt, "new")
    second = await driver.submit_modal(coach, opened, {"title": "Pitch practice"})
    first, new = await offering_rows(coachbot)
    async with coachbot.services.uow() as uow:
        assert await uow.offerings.thumbnail_info(first.id) is None
        assert await thumbnail_bytes(uow, new.id) == PNG
    assert second.last.embeds[0].thumbnail.url.startswith(f"attachment://offering-{new.id}-")
