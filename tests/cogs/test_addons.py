"""Add-ons: `/offering addon add|remove|list` for a coach's paid offering, and picking them in
the `/book` summary, which puts each one as a line item of the Checkout request."""

from __future__ import annotations

import discord.ext.test as dpytest
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.stripe_gateway import StripeGateway
from scheduling import addons
from tests.cogs.booking_seed import TUE, at, bookings, seed_coach, seed_offering, setup_server
from tests.fixtures_bot import stripe_settings

CREATE = ("POST", "/v1/checkout/sessions")


@pytest.fixture
async def coach_setup(coachbot, members):
    coach_member = members[2]
    coach = await seed_coach(coachbot, coach_member, name="Coach Carla")
    paid = await seed_offering(coachbot, coach, price_minor=2500, currency="USD")
    free = await seed_offering(coachbot, coach, title="Intro call", price_minor=0)
    return coach_member, paid, free


async def stored_addons(bot, offering_id):
    async with bot.services.uow() as uow:
        return [(a.name, a.price_minor, a.extra_minutes)
                for a in await uow.offerings.addons(offering_id)]


async def test_add_list_and_remove(coachbot, driver, coach_setup):
    coach, paid, _ = coach_setup
    added = (await driver.slash(coach, "offering addon add", offering=str(paid.id),
                                name=" Session recording ", price="9.50")).last
    assert added.ephemeral
    assert added.content.startswith("Added **Session recording** for $9.50 to "
                                    "**Mock interview**.")
    await driver.slash(coach, "offering addon add", offering="Mock interview",
                       name="Written feedback", price="15")
    assert await stored_addons(coachbot, paid.id) == [("Session recording", 950, 0),
                                                      ("Written feedback", 1500, 0)]

    listed = (await driver.slash(coach, "offering addon list", offering=str(paid.id))).last
    assert listed.content == ("Add-ons of **Mock interview**:\n- Session recording: $9.50\n"
                              "- Written feedback: $15.00")
    choices = await driver.autocomplete(coach, "offering addon remove", focused="name",
                                        value="feed", offering=str(paid.id))
    assert [(c.name, c.value) for c in choices] == [
        ("Written feedback (+$15.00)", "Written feedback")]

    removed = (await driver.slash(coach, "offering addon remove", offering=str(paid.id),
                                  name="written FEEDBACK")).last
    assert removed.content.startswith("Removed **Written feedback** from **Mock interview**.")
    assert await stored_addons(coachbot, paid.id) == [("Session recording", 950, 0)]


@pytest.mark.parametrize(("options", "message"), [
    ({"name": "   "}, addons.EMPTY_NAME),
    ({"price": "0"}, addons.FREE_ADDON),
    ({"price": "lots"}, "`lots` is not a price."),
])
async def test_bad_add_ons_are_refused_and_nothing_is_stored(coachbot, driver, coach_setup,
                                                             options, message):
    coach, paid, _ = coach_setup
    values = {"offering": str(paid.id), "name": "Recording", "price": "9", **options}
    reply = await driver.slash(coach, "offering addon add", **values)
    assert reply.last.ephemeral
    assert message in reply.ephemeral_text
    assert await stored_addons(coachbot, paid.id) == []


async def test_extra_time_is_stored_for_one_on_one_and_refused_for_groups(coachbot, driver,
                                                                           coach_setup):
    coach, paid, _ = coach_setup
    added = await driver.slash(coach, "offering addon add", offering=str(paid.id),
                               name="Extra 30 minutes", price="20", extra_minutes=30)
    assert added.last.content.startswith("Added **Extra 30 minutes** for $20.00")
    assert await stored_addons(coachbot, paid.id) == [("Extra 30 minutes", 2000, 30)]

    async with coachbot.services.uow() as uow:
        group = await uow.offerings.get(paid.id)
        group.capacity = 4
        await uow.commit()
    refused = await driver.slash(coach, "offering addon add", offering=str(paid.id),
                                 name="Extra hour", price="30", extra_minutes=60)
    assert refused.ephemeral_text == addons.NO_EXTRA_TIME.format(title="Mock interview")


async def test_free_offerings_duplicates_unknown_names_and_others_offerings(
        coachbot, driver, coach_setup, members):
    coach, paid, free = coach_setup
    reply = await driver.slash(coach, "offering addon add", offering=str(free.id),
                               name="Recording", price="9")
    assert reply.ephemeral_text == addons.FREE_OFFERING.format(title="Intro call")
    await driver.slash(coach, "offering addon add", offering=str(paid.id), name="Recording",
                       price="9")
    again = await driver.slash(coach, "offering addon add", offering=str(paid.id),
                               name="RECORDING", price="5")
    assert "already has an add-on called `RECORDING`" in again.ephemeral_text
    unknown = await driver.slash(coach, "offering addon remove", offering=str(paid.id),
                                 name="Nope")
    assert "has no add-on called `Nope`" in unknown.ephemeral_text
    # Another member cannot touch the coach's offering.
    intruder = await driver.slash(members[1], "offering addon list", offering=str(paid.id))
    assert intruder.last.ephemeral
    assert await stored_addons(coachbot, paid.id) == [("Recording", 900, 0)]


async def test_at_most_ten_add_ons(coachbot, driver, coach_setup):
    coach, paid, _ = coach_setup
    async with coachbot.services.uow() as uow:
        for number in range(addons.MAX_ADDONS):
            await uow.offerings.add_addon(paid.id, name=f"Extra {number}", price_minor=100)
        await uow.commit()
    reply = await driver.slash(coach, "offering addon add", offering=str(paid.id),
                               name="One more", price="1")
    assert "has 10 add-ons already" in reply.ephemeral_text
    assert len(await stored_addons(coachbot, paid.id)) == addons.MAX_ADDONS


async def test_add_on_names_are_echoed_as_typed_without_pinging(coachbot, driver, coach_setup):
    coach, paid, _ = coach_setup
    reply = (await driver.slash(coach, "offering addon add", offering=str(paid.id),
                                name="@everyone <@&123> review", price="5")).last
    assert "**@everyone <@&123> review**" in reply.content
    assert reply.allowed_mentions == {"parse": []}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=120), price=st.text(max_size=12))
async def test_fuzzed_add_on_input_is_stored_or_refused(coachbot, driver, coach_setup, name,
                                                        price):
    coach, paid, _ = coach_setup
    before = await stored_addons(coachbot, paid.id)
    reply = await driver.slash(coach, "offering addon add", offering=str(paid.id),
                               name=name[:100] or "x", price=price)
    after = await stored_addons(coachbot, paid.id)
    assert reply.last.ephemeral
    if after != before:
        assert reply.last.content.startswith("Added **")
        assert after[-1][0] == (name[:100] or "x").strip()
        async with coachbot.services.uow() as uow:  # start the next example clean
            for row in await uow.offerings.addons(paid.id):
                await uow.offerings.delete_addon(row)
            await uow.commit()


# ---------------------------------------------------------------- picking them in /book


@pytest.fixture
async def paid_book(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, _, coach_member = dpytest.get_config().members
    await setup_server(bot, guild)
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    offering = await seed_offering(bot, coach, price_minor=2500, currency="USD")
    async with bot.services.uow() as uow:
        recording = await uow.offerings.add_addon(offering.id, name="Session recording",
                                                  price_minor=900)
        feedback = await uow.offerings.add_addon(offering.id, name="Written feedback",
                                                 price_minor=1500)
        extra = await uow.offerings.add_addon(offering.id, name="Extra 30 minutes",
                                              price_minor=1200, extra_minutes=30)
        await uow.commit()
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")  # the fake Stripe server shares the loop
    yield {"bot": bot, "driver": driver, "student": student, "fake": fake_stripe,
           "recording": recording.id, "feedback": feedback.id, "extra": extra.id,
           "offering": offering}
    await bot.payments.drain()


async def to_summary(driver, student):
    from tests.cogs.test_book import option

    reply = await driver.select(student, (await driver.slash(student, "book")).last,
                                "book:day", ["2026-11-24"])
    return await driver.select(student, reply.last, "book:slot",
                               [option(reply.last, "book:slot", "10:00")])


def line_items(fake):
    return [(item["price_data"]["product_data"]["name"], item["price_data"]["unit_amount"],
             item["quantity"])
            for item in fake.last(*CREATE).params["line_items"]]


async def test_picked_add_ons_are_line_items_of_the_checkout(paid_book):
    driver, student, fake = paid_book["driver"], paid_book["student"], paid_book["fake"]
    summary = (await to_summary(driver, student)).last
    menu = summary.component("book:addons")
    assert [(o["label"], o.get("description")) for o in menu["options"]] == [
        ("Session recording", "+$9.00"), ("Written feedback", "+$15.00"),
        ("Extra 30 minutes", "+$12.00, +30 min")]
    assert (menu["min_values"], menu["max_values"]) == (0, 3)

    picked = (await driver.select(student, summary, "book:addons",
                                  [str(paid_book["feedback"]), str(paid_book["recording"])])).last
    assert ("Add-ons: Session recording (+$9.00), Written feedback (+$15.00). "
            "Total: **$49.00**.") in picked.content
    assert [o.get("default", False) for o in picked.component("book:addons")["options"]] == [
        True, True, False]
    done = (await driver.click(student, picked, "book:pay")).last

    [held] = await bookings(paid_book["bot"])
    assert held.status == "pending_payment" and held.start_at == at(TUE, 10)
    names = line_items(fake)
    assert names[0][1:] == ("2500", "1")
    assert names[1:] == [("Session recording", "900", "1"), ("Written feedback", "1500", "1")]
    assert fake.last(*CREATE).params["metadata"]["addon_ids"] == (
        f"{paid_book['recording']},{paid_book['feedback']}")
    assert done.components[0]["components"][0]["label"] == "Pay $49.00"


async def test_unpicking_add_ons_pays_the_offering_only(paid_book):
    driver, student, fake = paid_book["driver"], paid_book["student"], paid_book["fake"]
    summary = (await to_summary(driver, student)).last
    picked = (await driver.select(student, summary, "book:addons",
                                  [str(paid_book["recording"])])).last
    cleared = (await driver.select(student, picked, "book:addons", [])).last
    assert "Add-ons:" not in cleared.content

    await driver.click(student, cleared, "book:pay")

    assert len(line_items(fake)) == 1
    assert "addon_ids" not in fake.last(*CREATE).params["metadata"]



async def test_promotion_codes_reach_checkout_when_the_offering_allows_them(paid_book):
    driver, student, fake = paid_book["driver"], paid_book["student"], paid_book["fake"]
    async with paid_book["bot"].services.uow() as uow:
        [offering] = await uow.offerings.list_published(paid_book["bot"].guilds[0].id)
        await uow.offerings.update(offering, allow_promotion_codes=True)
        await uow.commit()
    summary = (await to_summary(driver, student)).last

    await driver.click(student, summary, "book:pay")

    assert fake.last(*CREATE).params["allow_promotion_codes"] == "true"


async def test_no_promotion_codes_unless_allowed(paid_book):
    driver, student, fake = paid_book["driver"], paid_book["student"], paid_book["fake"]
    await driver.click(student, (await to_summary(driver, student)).last, "book:pay")
    assert "allow_promotion_codes" not in fake.last(*CREATE).params


async def test_an_extra_time_add_on_holds_the_longer_session(paid_book):
    driver, student, fake = paid_book["driver"], paid_book["student"], paid_book["fake"]
    summary = (await to_summary(driver, student)).last
    picked = (await driver.select(student, summary, "book:addons",
                                  [str(paid_book["extra"])])).last
    assert "Extra 30 minutes (+$12.00, +30 min)" in picked.content

    await driver.click(student, picked, "book:pay")

    [held] = await bookings(paid_book["bot"])
    assert (held.start_at, held.end_at) == (at(TUE, 10), at(TUE, 11, 30))
    assert line_items(fake)[1] == ("Extra 30 minutes", "1200", "1")


async def test_extra_time_that_runs_into_the_next_booking_is_refused_before_paying(paid_book):
    from tests.cogs.booking_seed import add_booking

    driver, student, fake = paid_book["driver"], paid_book["student"], paid_book["fake"]
    await add_booking(paid_book["bot"], paid_book["offering"], 4242, at(TUE, 11))
    summary = (await to_summary(driver, student)).last
    picked = (await driver.select(student, summary, "book:addons",
                                  [str(paid_book["extra"])])).last

    reply = (await driver.click(student, picked, "book:pay")).last

    assert "no room for the extra 30 minutes" in reply.content
    assert fake.calls(*CREATE) == []
    assert [b.student_id for b in await bookings(paid_book["bot"])] == [4242]
