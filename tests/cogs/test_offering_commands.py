"""`/offering edit|publish|unpublish|list|delete` through discord.py's interaction pipeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.coach_access import NOT_A_COACH
from storage.models import Booking, Offering
from tests.cogs.test_offering_wizard import (
    CHECKOUT,
    PNG,
    TITLE,
    button,
    fields,
    make_coach,
    modal_step,
    offering_rows,
    press,
    start_wizard,
)
from tests.fixtures_bot import START, stripe_settings


async def seed_offering(bot, member, *, title: str = TITLE, status: str = "published",
                        price_minor: int = 0, description: str = "Chapter one, together.",
                        draft_step: int = 0) -> Offering:
    """An offering row of `member` (made a coach), written through the storage layer."""
    await make_coach(bot, member)
    async with bot.services.uow() as uow:
        coach = await uow.coaches.get_by_user(member.guild.id, member.id)
        if coach is None:
            coach = await uow.coaches.create(guild_id=member.guild.id, user_id=member.id,
                                             display_name=member.display_name)
        offering = await uow.offerings.create(
            guild_id=member.guild.id, coach_id=coach.id, title=title, status=status,
            price_minor=price_minor, description=description, draft_step=draft_step)
        await uow.commit()
    return offering


async def add_booking(bot, offering: Offering, *, start, status: str = "confirmed",
                      minutes: int = 60) -> Booking:
    async with bot.services.uow() as uow:
        booking = await uow.bookings.add(Booking(
            guild_id=offering.guild_id, offering_id=offering.id, coach_id=offering.coach_id,
            student_id=42, status=status, start_at=start, end_at=start + timedelta(minutes=minutes),
            expires_at=start if status == "pending_payment" else None))
        await uow.commit()
    return booking


async def status_of(bot, offering_id: int) -> str:
    async with bot.services.uow() as uow:
        return (await uow.offerings.get(offering_id)).status


@pytest.fixture
def coach(members):
    return members[0]


# ---------------------------------------------------------------- who may use them


@pytest.mark.parametrize(("command", "options"), [
    ("offering list", {}),
    ("offering edit", {"offering": TITLE}),
    ("offering publish", {"offering": TITLE}),
    ("offering unpublish", {"offering": TITLE}),
    ("offering delete", {"offering": TITLE}),
])
async def test_non_coaches_are_refused(coachbot, driver, members, command, options):
    await seed_offering(coachbot, members[0])
    reply = (await driver.slash(members[1], command, **options)).last
    assert reply.ephemeral and reply.content == NOT_A_COACH
    assert [o.status for o in await offering_rows(coachbot)] == ["published"]


async def test_another_coachs_offering_cannot_be_touched(coachbot, driver, members):
    theirs = await seed_offering(coachbot, members[0])
    await make_coach(coachbot, members[1])
    for command in ("offering edit", "offering unpublish", "offering delete"):
        reply = (await driver.slash(members[1], command, offering=str(theirs.id))).last
        assert reply.ephemeral and "You have no offerings yet" in reply.content
    assert await status_of(coachbot, theirs.id) == "published"


# ---------------------------------------------------------------- list and autocomplete


async def test_list_without_offerings(driver, coachbot, coach):
    await make_coach(coachbot, coach)
    reply = (await driver.slash(coach, "offering list")).last
    assert reply.ephemeral and "no offerings yet" in reply.content


async def test_list_shows_each_offering_with_its_status(coachbot, driver, coach):
    await seed_offering(coachbot, coach, title="@everyone Live review", price_minor=2500)
    await seed_offering(coachbot, coach, title="Pitch practice", status="draft", draft_step=2)
    await seed_offering(coachbot, coach, title="Old thing", status="deleted")
    reply = (await driver.slash(coach, "offering list")).last
    assert reply.ephemeral
    listed = fields(reply.embeds[0])
    assert list(listed) == ["@everyone Live review", "Pitch practice"]
    assert listed["@everyone Live review"].startswith("Published · $25.00 · 1 h")
    assert listed["Pitch practice"].startswith("Draft, step 2 of 4")
    assert reply.allowed_mentions == {"parse": []}


async def test_autocomplete_offers_only_the_coachs_own_offerings(coachbot, driver, members):
    mine = await seed_offering(coachbot, members[0], title="Manuscript review")
    draft = await seed_offering(coachbot, members[0], title="Query letters", status="draft")
    await seed_offering(coachbot, members[1], title="Manuscript deep dive")

    choices = await driver.autocomplete(members[0], "offering edit", focused="offering",
                                        value="")
    assert [(c.name, c.value) for c in choices] == [
        ("Manuscript review (published)", str(mine.id)), ("Query letters (draft)", str(draft.id))]
    typed = await driver.autocomplete(members[0], "offering edit", focused="offering",
                                      value="manu")
    assert [c.value for c in typed] == [str(mine.id)]
    publishable = await driver.autocomplete(members[0], "offering publish", focused="offering")
    assert [c.value for c in publishable] == [str(draft.id)]
    unpublishable = await driver.autocomplete(members[0], "offering unpublish",
                                              focused="offering")
    assert [c.value for c in unpublishable] == [str(mine.id)]
    assert await driver.autocomplete(members[2], "offering edit", focused="offering") == []


# ---------------------------------------------------------------- edit


async def test_edit_reopens_a_published_offering_at_step_one(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach)
    wizard = await driver.slash(coach, "offering edit", offering=str(offering.id))
    reply = wizard.last
    assert reply.ephemeral
    assert f"Editing **{TITLE}** (published), step 1 of 4" in reply.content
    assert button(wizard, "done") and not [c for c in reply.custom_ids if c.endswith(":cancel")]
    step2 = await press(driver, coach, wizard, "next")
    changed = await modal_step(driver, coach, step2, "checkout", {**CHECKOUT, "price": "0",
                                                                   "duration": "45"})
    assert fields(changed.last.embeds[0])["Duration"] == "45 min"
    done = await press(driver, coach, changed, "done")
    assert "Your changes are saved" in done.last.content
    assert done.last.components == []
    async with coachbot.services.uow() as uow:
        stored = await uow.offerings.get(offering.id)
        assert (stored.status, stored.duration_minutes) == ("published", 45)


async def test_edit_by_typed_title_resumes_a_draft_at_its_step(coachbot, driver, coach):
    await seed_offering(coachbot, coach, status="draft", draft_step=3)
    wizard = await driver.slash(coach, "offering edit", offering="manuscript REVIEW")
    assert "new offering, step 3 of 4" in wizard.last.content


async def test_edit_an_unknown_offering(coachbot, driver, coach):
    await seed_offering(coachbot, coach)
    reply = (await driver.slash(coach, "offering edit", offering="Tarot")).last
    assert reply.ephemeral and "no offering with that name" in reply.content


async def test_edit_with_a_thumbnail_upload(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach)
    wizard = await driver.slash(coach, "offering edit", offering=str(offering.id), thumbnail={
        "filename": "cover.jpg", "content_type": "image/jpeg",
        "content": b"\xff\xd8\xff\xe0" + bytes(40)})
    assert wizard.last.files and wizard.last.files[0].filename.endswith(".jpg")
    async with coachbot.services.uow() as uow:
        info = await uow.offerings.thumbnail_info(offering.id)
    assert info.content_type == "image/jpeg"


async def test_edit_with_a_text_file_as_thumbnail_is_refused(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach)
    reply = (await driver.slash(coach, "offering edit", offering=str(offering.id), thumbnail={
        "filename": "notes.txt", "content_type": "text/plain", "content": b"hi"})).last
    assert reply.ephemeral and "is not an image" in reply.content
    async with coachbot.services.uow() as uow:
        assert await uow.offerings.thumbnail_info(offering.id) is None


async def test_a_published_free_offering_cannot_become_paid_without_stripe(coachbot, driver,
                                                                          coach):
    offering = await seed_offering(coachbot, coach)
    wizard = await driver.slash(coach, "offering edit", offering=str(offering.id))
    step2 = await press(driver, coach, wizard, "next")
    reply = (await modal_step(driver, coach, step2, "checkout", CHECKOUT)).last
    assert reply.ephemeral and "STRIPE_SECRET_KEY" in reply.content
    async with coachbot.services.uow() as uow:
        assert (await uow.offerings.get(offering.id)).price_minor == 0


# ---------------------------------------------------------------- publish and unpublish


async def test_publish_a_free_draft(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach, status="draft")
    reply = (await driver.slash(coach, "offering publish", offering=TITLE)).last
    assert reply.ephemeral and f"**{TITLE}** is published" in reply.content
    assert reply.embeds[0].title == TITLE
    assert await status_of(coachbot, offering.id) == "published"


async def test_publish_a_paid_draft_without_stripe_says_what_to_set(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach, status="draft", price_minor=2500)
    reply = (await driver.slash(coach, "offering publish", offering=TITLE)).last
    assert reply.ephemeral
    assert "STRIPE_SECRET_KEY" in reply.content and "STRIPE_WEBHOOK_SECRET" in reply.content
    assert await status_of(coachbot, offering.id) == "draft"


async def test_publish_a_paid_draft_with_stripe(make_coachbot, make_driver, bot_settings):
    bot = await make_coachbot(stripe_settings(bot_settings))
    driver = make_driver(bot)
    member = bot.guilds[0].members[0]
    offering = await seed_offering(bot, member, status="draft", price_minor=2500)
    reply = (await driver.slash(member, "offering publish", offering=TITLE)).last
    assert "is published" in reply.content
    assert await status_of(bot, offering.id) == "published"


async def test_publish_names_what_is_missing(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach, status="draft", description="")
    reply = (await driver.slash(coach, "offering publish", offering=TITLE)).last
    assert reply.ephemeral and "a description (step 2 · Checkout)" in reply.content
    assert await status_of(coachbot, offering.id) == "draft"


async def test_publish_twice_says_it_already_is(coachbot, driver, coach):
    await seed_offering(coachbot, coach)
    reply = (await driver.slash(coach, "offering publish", offering=TITLE)).last
    assert reply.ephemeral and "already published" in reply.content


async def test_unpublish_hides_it_and_leaves_bookings_alone(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach)
    booking = await add_booking(coachbot, offering, start=START + timedelta(days=2))
    reply = (await driver.slash(coach, "offering unpublish", offering=TITLE)).last
    assert reply.ephemeral and "hidden from new bookings" in reply.content
    assert await status_of(coachbot, offering.id) == "unpublished"
    async with coachbot.services.uow() as uow:
        assert (await uow.bookings.get(booking.id)).status == "confirmed"
        assert await uow.offerings.list_published(coach.guild.id) == []

    again = (await driver.slash(coach, "offering unpublish", offering=TITLE)).last
    assert "not published" in again.content
    republished = (await driver.slash(coach, "offering publish", offering=TITLE)).last
    assert "is published" in republished.content


# ---------------------------------------------------------------- delete


@pytest.mark.parametrize("status", ["confirmed", "pending_payment", "in_progress"])
async def test_delete_is_refused_while_sessions_are_ahead(coachbot, driver, coach, status):
    offering = await seed_offering(coachbot, coach)
    await add_booking(coachbot, offering, start=START + timedelta(days=1), status=status)
    reply = (await driver.slash(coach, "offering delete", offering=TITLE)).last
    assert reply.ephemeral
    assert "1 session is still booked" in reply.content and "/offering unpublish" in reply.content
    assert reply.components == []
    assert await status_of(coachbot, offering.id) == "published"


async def test_delete_after_confirmation_is_a_soft_delete(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach)
    await add_booking(coachbot, offering, start=START - timedelta(days=3))  # in the past
    await add_booking(coachbot, offering, start=START + timedelta(days=3), status="cancelled")
    asked = await driver.slash(coach, "offering delete", offering=TITLE)
    assert asked.last.ephemeral and "Delete **Manuscript review**?" in asked.last.content
    done = await press(driver, coach, asked, "delete")
    assert "is deleted" in done.last.content and done.last.components == []
    assert await status_of(coachbot, offering.id) == "deleted"
    listed = (await driver.slash(coach, "offering list")).last
    assert "no offerings yet" in listed.content


async def test_delete_can_be_called_off(coachbot, driver, coach):
    offering = await seed_offering(coachbot, coach)
    asked = await driver.slash(coach, "offering delete", offering=TITLE)
    kept = await press(driver, coach, asked, "dismiss")
    assert kept.last.content == "Nothing was deleted."
    assert await status_of(coachbot, offering.id) == "published"


async def test_a_booking_made_between_prompt_and_confirmation_still_blocks(coachbot, driver,
                                                                          coach):
    offering = await seed_offering(coachbot, coach)
    asked = await driver.slash(coach, "offering delete", offering=TITLE)
    await add_booking(coachbot, offering, start=START + timedelta(hours=5))
    reply = (await press(driver, coach, asked, "delete")).last
    assert reply.ephemeral and "still booked" in reply.content
    assert await status_of(coachbot, offering.id) == "published"


async def test_a_full_wizard_then_list(coachbot, driver, coach):
    await make_coach(coachbot, coach)
    wizard = await start_wizard(driver, coach, thumbnail={
        "filename": "cover.png", "content_type": "image/png", "content": PNG})
    step2 = await press(driver, coach, wizard, "next")
    await modal_step(driver, coach, step2, "checkout", {**CHECKOUT, "price": "0"})
    listed = (await driver.slash(coach, "offering list")).last
    assert fields(listed.embeds[0])[TITLE].startswith("Draft, step 2 of 4 · Free · 1 h")
