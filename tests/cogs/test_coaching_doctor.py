"""`/coaching doctor` on real (dpytest) guild state: each finding and its fix."""

import discord
import pytest
from discord.ext.test import backend, factories

from tests.fixtures_bot import stripe_settings
from tests.harness import grant_permissions

ROLE_TOO_HIGH = "Problem: The Coaching Access role `Coaching Access` is at or above my highest role"


def make_admin(member):
    grant_permissions(member, discord.Permissions(manage_guild=True), name="Admins")
    return member


def set_role(role, **fields):
    data = factories.dict_from_role(role)
    data.update(fields)
    backend.get_state().parse_guild_role_update({"guild_id": role.guild.id, "role": data})
    return role.guild.get_role(role.id)


def findings(reply):
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert embed.title == "Coachbot doctor"
    return {f.name: f.value for f in embed.fields}


@pytest.fixture
def admin(members):
    return make_admin(members[0])


@pytest.fixture
async def configured(driver, guild, admin):
    """A server set up the easy way: the bot created the role and category; a log channel."""
    await driver.slash(admin, "coaching setup", create_access_role=True, create_category=True,
                       log_channel=guild.text_channels[1])
    role = next(r for r in guild.roles if r.name == "Coaching Access")
    category = next(c for c in guild.categories if c.name == "Coaching")
    return role, category, guild.text_channels[1]


async def test_fresh_server_needs_the_role_and_the_category(driver, admin):
    reply = (await driver.slash(admin, "coaching doctor")).last
    result = findings(reply)
    assert reply.embeds[0].description.startswith("Found 2 problems.")
    assert reply.embeds[0].colour == discord.Colour.red()
    assert set(result) == {"Problem: The Coaching Access role is not set",
                           "Problem: The session category is not set"}
    assert "/coaching setup create_access_role: True" in result[
        "Problem: The Coaching Access role is not set"]


async def test_a_server_set_up_by_the_bot_is_all_good(driver, admin, configured):
    reply = (await driver.slash(admin, "coaching doctor")).last
    assert findings(reply) == {}
    assert reply.embeds[0].description.startswith("All good")
    assert reply.embeds[0].colour == discord.Colour.green()


async def test_bot_role_too_low_for_the_access_role(driver, guild, admin, configured):
    role, _, _ = configured
    bot_role = guild.me.top_role
    set_role(role, position=bot_role.position + 1)  # an admin dragged it above the bot
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    assert list(result) == [ROLE_TOO_HIGH]
    text = result[ROLE_TOO_HIGH]
    assert f"is at position {bot_role.position + 1} and my role (`Coachbot`) at" in text
    assert text.endswith("**Fix:** In Server Settings > Roles, drag my role (`Coachbot`) above "
                         "`Coaching Access` and save.")


async def test_role_at_the_same_position_but_older_than_the_bot_role_is_too_high(
        driver, guild, admin, configured):
    bot_role = guild.me.top_role
    older = backend.make_role("Old role", guild, permissions=0, id_num=bot_role.id - 1)
    assert older.position == bot_role.position  # Discord breaks the tie by id: older is higher
    refused = (await driver.slash(admin, "coaching setup", access_role=older)).last
    assert "`Old role` is at or above my highest role" in refused.content
    async with driver.bot.services.uow() as uow:  # e.g. configured before the roles moved
        await uow.guild_settings.update(guild.id, access_role_id=older.id)
        await uow.commit()
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    assert "Problem: The Coaching Access role `Old role` is at or above my highest role" in result


async def test_bot_without_manage_roles_and_manage_channels(driver, guild, admin, configured):
    set_role(guild.me.top_role, permissions=discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True).value)
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    assert result["Problem: I lack the Manage Roles permission"].endswith(
        "**Fix:** In Server Settings > Roles, open my role (`Coachbot`) and turn on Manage Roles.")
    assert result["Problem: I lack the Manage Channels permission"].endswith(
        "turn on Manage Channels.")


async def test_deleted_role_category_and_required_role(driver, guild, admin, configured):
    role, category, _ = configured
    verified = backend.make_role("Verified", guild, permissions=0)
    await driver.slash(admin, "coaching setup", required_role=verified)
    backend.delete_role(role)
    backend.delete_role(verified)
    await category.delete()
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    assert set(result) == {"Problem: The Coaching Access role was deleted",
                           "Problem: The session category was deleted",
                           "Problem: The role required to book was deleted"}


async def test_category_the_bot_cannot_see(driver, guild, admin, configured):
    _, category, _ = configured
    await category.set_permissions(guild.me, view_channel=False)
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    assert list(result) == ["Problem: I cannot see the category `Coaching`"]
    assert "allow View Channel, Manage Channels and Manage Permissions for my role" in result[
        "Problem: I cannot see the category `Coaching`"]


async def test_log_channel_not_writable_or_deleted(driver, guild, admin, configured):
    _, _, log_channel = configured
    await log_channel.set_permissions(guild.me, embed_links=False)
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    name = f"Warning: I cannot post in the log channel #{log_channel.name}"
    assert list(result) == [name]
    assert "allow Embed Links for my role (`Coachbot`)" in result[name]
    reply = (await driver.slash(admin, "coaching doctor")).last
    assert reply.embeds[0].colour == discord.Colour.orange()

    await log_channel.delete()
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    assert list(result) == ["Warning: The log channel was deleted"]


async def publish_paid_offering(bot, guild, user_id):
    async with bot.services.uow() as uow:
        coach = await uow.coaches.create(guild_id=guild.id, user_id=user_id, display_name="Ada")
        await uow.offerings.create(guild_id=guild.id, coach_id=coach.id, title="Review",
                                   status="published", price_minor=2500)
        await uow.offerings.create(guild_id=guild.id, coach_id=coach.id, title="Intro",
                                   status="published", price_minor=0)
        await uow.commit()


async def test_paid_offerings_without_stripe(driver, coachbot, guild, admin, members,
                                             configured):
    await publish_paid_offering(coachbot, guild, members[1].id)
    result = findings((await driver.slash(admin, "coaching doctor")).last)
    name = "Problem: Stripe is not configured but paid offerings are published"
    assert list(result) == [name]
    assert "1 paid offering is published" in result[name]
    assert "Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in result[name]


async def test_paid_offerings_with_stripe_are_fine(make_coachbot, make_driver, bot_settings):
    bot = await make_coachbot(stripe_settings(bot_settings))
    driver = make_driver(bot)
    guild = bot.guilds[0]
    admin = make_admin(guild.get_member(next(m.id for m in guild.members if not m.bot)))
    await driver.slash(admin, "coaching setup", create_access_role=True, create_category=True)
    await publish_paid_offering(bot, guild, admin.id)
    reply = (await driver.slash(admin, "coaching doctor")).last
    assert findings(reply) == {}


async def test_non_admin_cannot_run_the_doctor(driver, members):
    reply = (await driver.slash(members[1], "coaching doctor")).last
    assert reply.ephemeral
    assert reply.content == "You need the Manage Server permission to use this."
