"""`/coaching setup` end to end: options, created roles and channels, the audit trail, bad input."""

import logging

import discord
import pytest
from discord.ext.test import backend, factories

from scheduling.policy import make_policy
from tests.harness import CommandUnavailableError, grant_permissions, sent_payload


def make_admin(member):
    grant_permissions(member, discord.Permissions(manage_guild=True), name="Admins")
    return member


def set_role(role, **fields):
    """Change a role as Discord would after an admin edits it (position, managed, ...)."""
    data = factories.dict_from_role(role)
    data.update(fields)
    backend.get_state().parse_guild_role_update({"guild_id": role.guild.id, "role": data})
    return role.guild.get_role(role.id)


def fields_of(embed):
    return {f.name: f.value for f in embed.fields}


async def posts_in(channel):
    """Messages posted in a channel, oldest first."""
    try:
        return sorted([m async for m in channel.history(limit=20)], key=lambda m: m.id)
    except KeyError:  # dpytest keeps no message list for a channel nobody wrote in
        return []


async def settings_row(bot, guild):
    async with bot.services.uow() as uow:
        return await uow.guild_settings.get(guild.id)


async def audit_rows(bot, guild):
    async with bot.services.uow() as uow:
        return list(reversed(await uow.audit.list_for_guild(guild.id)))


@pytest.fixture
def admin(members):
    return make_admin(members[0])


async def test_without_options_shows_the_current_configuration_and_writes_nothing(
        driver, coachbot, guild, admin):
    reply = (await driver.slash(admin, "coaching setup")).last
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert embed.description.startswith("This is the current configuration")
    fields = fields_of(embed)
    assert fields["Coaching Access role"] == "not set"
    assert fields["Session category"] == "not set"
    assert fields["Required role to book"] == "none: everybody can book"
    assert fields["Currency"] == "USD"
    assert fields["Cancellation policy"].startswith("24 h or more before: 100 % refund")
    assert await settings_row(coachbot, guild) is None
    assert await audit_rows(coachbot, guild) == []


async def test_create_role_and_category_defers_then_creates_them_once(
        driver, coachbot, guild, admin):
    replies = await driver.slash(admin, "coaching setup", create_access_role=True,
                                 create_category=True)
    assert replies.first.kind == 5 and replies.first.ephemeral  # deferred first: Discord I/O
    reply = replies.last
    assert reply.kind == "followup" and reply.ephemeral
    roles = [r for r in guild.roles if r.name == "Coaching Access"]
    assert len(roles) == 1
    role = roles[0]
    assert role.permissions == discord.Permissions.none()
    assert not role.hoist and not role.mentionable
    assert role < guild.me.top_role
    categories = [c for c in guild.categories if c.name == "Coaching"]
    assert len(categories) == 1
    category = categories[0]
    everyone = category.overwrites_for(guild.default_role)
    assert everyone.view_channel is False
    mine = category.overwrites_for(guild.me)
    assert mine.view_channel and mine.manage_channels
    assert category.permissions_for(guild.me).view_channel
    assert not category.permissions_for(guild.members[1]).view_channel

    fields = fields_of(reply.embeds[0])
    assert fields["Coaching Access role"] == f"<@&{role.id}>"
    assert fields["Session category"] == "Coaching (category)"
    assert reply.embeds[0].description == "Changed: Coaching Access role, Session category."
    assert reply.allowed_mentions == {"parse": []}
    row = await settings_row(coachbot, guild)
    assert (row.access_role_id, row.category_id) == (role.id, category.id)

    again = (await driver.slash(admin, "coaching setup", create_access_role=True,
                                create_category=True)).last
    assert [r.name for r in guild.roles].count("Coaching Access") == 1
    assert [c.name for c in guild.categories].count("Coaching") == 1
    assert again.embeds[0].description == "Nothing changed: that is already the configuration."
    notes = fields_of(again.embeds[0])["Notes"]
    assert "Kept the existing Coaching Access role `Coaching Access`" in notes
    assert "Kept the existing session category" in notes
    assert len(await audit_rows(coachbot, guild)) == 1


async def test_deleted_access_role_is_created_again(driver, coachbot, guild, admin):
    await driver.slash(admin, "coaching setup", create_access_role=True)
    old = next(r for r in guild.roles if r.name == "Coaching Access")
    backend.delete_role(old)
    await driver.slash(admin, "coaching setup", create_access_role=True)
    new = next(r for r in guild.roles if r.name == "Coaching Access")
    assert new.id != old.id
    assert (await settings_row(coachbot, guild)).access_role_id == new.id


async def test_every_option_is_applied_audited_and_posted_to_the_log_channel(
        driver, coachbot, guild, admin, members):
    access = backend.make_role("Students", guild, permissions=0)
    verified = backend.make_role("Verified", guild, permissions=0)
    category = await guild.create_category("Sessions")
    log_channel = guild.text_channels[1]
    reply = (await driver.slash(
        admin, "coaching setup", access_role=access, category=category,
        log_channel=log_channel, required_role=verified, currency="eur",
        cancel_notice_hours=48, refund_percent=50)).last
    assert reply.kind == 4 and reply.ephemeral  # no Discord I/O: no need to defer
    fields = fields_of(reply.embeds[0])
    assert fields["Coaching Access role"] == f"<@&{access.id}>"
    assert fields["Session category"] == "Sessions (category)"
    assert fields["Log channel"] == f"<#{log_channel.id}>"
    assert fields["Required role to book"] == f"<@&{verified.id}>"
    assert fields["Currency"] == "EUR"
    assert fields["Cancellation policy"].splitlines() == make_policy([(48, 50)]).describe()
    assert "Warning" not in fields
    assert reply.embeds[0].description == (
        "Changed: Coaching Access role, Session category, Log channel, Required role, "
        "Currency, Cancellation policy.")

    row = await settings_row(coachbot, guild)
    assert (row.access_role_id, row.category_id, row.log_channel_id, row.required_role_id,
            row.currency) == (access.id, category.id, log_channel.id, verified.id, "EUR")
    assert row.default_policy == make_policy([(48, 50)]).to_dict()

    [entry] = await audit_rows(coachbot, guild)
    assert (entry.actor_id, entry.action) == (admin.id, "setup")
    assert entry.before["currency"] == "USD" and entry.after["currency"] == "EUR"
    assert entry.before["access_role_id"] is None and entry.after["access_role_id"] == access.id
    assert entry.after["default_policy"] == make_policy([(48, 50)]).to_dict()

    [posted] = await posts_in(log_channel)
    embed = fields_of(posted.embeds[0])
    assert embed["Who"] == f"{admin.mention} ({admin})"
    assert embed["What"].startswith("Changed the server setup: Coaching Access role")
    assert "**Currency**: USD" in embed["Before"]
    assert "**Currency**: EUR" in embed["After"]
    assert f"**Coaching Access role**: <@&{access.id}>" in embed["After"]
    assert "48 h or more before: 50 % refund" in embed["After"]
    assert sent_payload(posted)["allowed_mentions"] == {"parse": []}


async def test_half_a_policy_keeps_the_rest(driver, coachbot, guild, admin):
    await driver.slash(admin, "coaching setup", cancel_notice_hours=12, refund_percent=80)
    reply = (await driver.slash(admin, "coaching setup", refund_percent=50)).last
    assert reply.embeds[0].description == "Changed: Cancellation policy."
    row = await settings_row(coachbot, guild)
    assert row.default_policy == make_policy([(12, 50)]).to_dict()
    [_, second] = await audit_rows(coachbot, guild)
    assert second.before["default_policy"]["tiers"] == [
        {"min_notice_hours": 12, "refund_percent": 80}]


async def test_clearing_the_log_channel_posts_the_last_entry_there(driver, coachbot, guild,
                                                                     admin):
    log_channel = guild.text_channels[1]
    await driver.slash(admin, "coaching setup", log_channel=log_channel)
    reply = (await driver.slash(admin, "coaching setup", clear="log_channel")).last
    assert fields_of(reply.embeds[0])["Log channel"] == "not set"
    assert (await settings_row(coachbot, guild)).log_channel_id is None
    posts = await posts_in(log_channel)
    assert len(posts) == 2
    assert any("**Log channel**: not set" in fields_of(m.embeds[0])["After"] for m in posts)


async def test_unwritable_log_channel_does_not_break_setup(driver, coachbot, guild, admin,
                                                            caplog):
    log_channel = guild.text_channels[1]
    await log_channel.set_permissions(guild.me, send_messages=False)
    with caplog.at_level(logging.WARNING, logger="bot.audit_log"):
        reply = (await driver.slash(admin, "coaching setup", log_channel=log_channel,
                                    currency="GBP")).last
    assert reply.ephemeral
    fields = fields_of(reply.embeds[0])
    assert fields["Currency"] == "GBP"
    assert "I cannot post the audit trail in the log channel" in fields["Warning"]
    assert "Send Messages" in fields["Warning"]
    assert "not posted to log channel" in caplog.text
    assert await posts_in(log_channel) == []
    assert len(await audit_rows(coachbot, guild)) == 1  # the database record is kept


async def test_currency_autocomplete_offers_common_currencies(driver, admin):
    choices = await driver.autocomplete(admin, "coaching setup", focused="currency",
                                        value="eu")
    assert choices[0].value == "EUR" and choices[0].name == "EUR: Euro"
    everything = await driver.autocomplete(admin, "coaching setup", focused="currency")
    assert len(everything) == 25


# ---------------------------------------------------------------- bad input


async def assert_refused(driver, coachbot, guild, admin, message, **options):
    roles_before = {r.id for r in guild.roles}
    channels_before = {c.id for c in guild.channels}
    reply = (await driver.slash(admin, "coaching setup", **options)).last
    assert reply.ephemeral
    assert message in reply.content
    assert await settings_row(coachbot, guild) is None
    assert await audit_rows(coachbot, guild) == []
    assert {r.id for r in guild.roles} == roles_before
    assert {c.id for c in guild.channels} == channels_before
    return reply


async def test_invalid_currency_is_refused(driver, coachbot, guild, admin):
    reply = await assert_refused(driver, coachbot, guild, admin, "not a currency code",
                                 currency="euros", create_access_role=True)
    assert "Use a 3-letter ISO code like USD or EUR." in reply.content


async def test_refund_over_100_percent_is_refused(driver, coachbot, guild, admin):
    await assert_refused(driver, coachbot, guild, admin,
                         "A refund percentage must be between 0 and 100.", refund_percent=150)


async def test_negative_notice_is_refused(driver, coachbot, guild, admin):
    await assert_refused(driver, coachbot, guild, admin,
                         "The cancellation notice cannot be negative", cancel_notice_hours=-5)


async def test_everyone_cannot_be_the_access_role(driver, coachbot, guild, admin):
    await assert_refused(driver, coachbot, guild, admin,
                         "@everyone cannot be the Coaching Access role",
                         access_role=guild.default_role)


async def test_a_bot_managed_role_cannot_be_the_access_role(driver, coachbot, guild, admin):
    managed = set_role(backend.make_role("OtherBot", guild, permissions=0), managed=True)
    await assert_refused(driver, coachbot, guild, admin,
                         "`OtherBot` is managed by a bot or an integration",
                         access_role=managed)


async def test_a_role_above_the_bot_is_refused_with_how_to_fix(driver, coachbot, guild, admin):
    mods = backend.make_role("Moderators", guild, permissions=0)
    mods = set_role(mods, position=guild.me.top_role.position + 1)
    reply = await assert_refused(driver, coachbot, guild, admin,
                                 "`Moderators` is at or above my highest role (`Coachbot`)",
                                 access_role=mods)
    assert "Move my role above it in Server Settings > Roles" in reply.content


async def test_role_and_create_role_together_are_refused(driver, coachbot, guild, admin):
    role = backend.make_role("Students", guild, permissions=0)
    await assert_refused(driver, coachbot, guild, admin, "not both", access_role=role,
                         create_access_role=True)


async def test_creating_a_role_without_manage_roles_explains(driver, coachbot, guild, admin):
    bot_role = guild.me.top_role
    set_role(bot_role, permissions=discord.Permissions(
        view_channel=True, send_messages=True, manage_channels=True).value)
    replies = await driver.slash(admin, "coaching setup", create_access_role=True)
    assert replies.first.kind == 5
    assert replies.last.kind == "followup" and replies.last.ephemeral
    assert "I need the Manage Roles permission to create the role" in replies.last.content
    assert "Coaching Access" not in [r.name for r in guild.roles]
    assert await settings_row(coachbot, guild) is None


async def test_non_admin_is_told_which_permission_is_missing(driver, coachbot, guild, members):
    reply = (await driver.slash(members[1], "coaching setup", currency="EUR")).last
    assert reply.ephemeral
    assert reply.content == "You need the Manage Server permission to use this."
    assert await settings_row(coachbot, guild) is None


async def test_about_stays_public_for_non_admins(driver, members):
    reply = (await driver.slash(members[2], "coaching about")).last
    assert reply.ephemeral and reply.embeds[0].title == "Coachbot"


async def test_coaching_is_not_available_in_dms(driver, admin):
    for command in ("coaching setup", "coaching about", "coaching doctor",
                    "coaching coaches list"):
        with pytest.raises(CommandUnavailableError, match="not available in DMs"):
            await driver.slash(admin, command, dm=True)


async def test_platform_fee_and_channel_retention_are_set_and_shown(driver, coachbot, guild,
                                                                    admin):
    reply = (await driver.slash(admin, "coaching setup", platform_fee_percent=12,
                                channel_retention_days=3)).last
    shown = fields_of(reply.embeds[0])
    assert (shown["Platform fee"], shown["Channel retention"]) == ("12 %", "3 days")
    row = await settings_row(coachbot, guild)
    assert (row.platform_fee_percent, row.channel_retention_days) == (12, 3)


async def test_platform_fee_over_100_percent_is_refused(driver, coachbot, guild, admin):
    await assert_refused(driver, coachbot, guild, admin, "whole number from 0 to 100",
                         platform_fee_percent=101)


async def test_referral_commission_is_set_shown_audited_and_posted(driver, coachbot, guild,
                                                                   admin):
    log_channel = guild.text_channels[1]
    await driver.slash(admin, "coaching setup", log_channel=log_channel)
    reply = (await driver.slash(admin, "coaching setup", referral_commission_percent=15)).last
    assert reply.ephemeral
    assert reply.embeds[0].description == "Changed: Referral commission."
    assert fields_of(reply.embeds[0])["Referral commission"] == "15 %"
    assert (await settings_row(coachbot, guild)).referral_commission_percent == 15
    entry = (await audit_rows(coachbot, guild))[-1]
    assert (entry.actor_id, entry.action) == (admin.id, "setup")
    assert (entry.before, entry.after) == ({"referral_commission_percent": 0},
                                           {"referral_commission_percent": 15})
    posted = (await posts_in(log_channel))[-1]
    assert "**Referral commission**: 15" in fields_of(posted.embeds[0])["After"]
    again = (await driver.slash(admin, "coaching setup", referral_commission_percent=15)).last
    assert again.embeds[0].description == "Nothing changed: that is already the configuration."
    assert len(await audit_rows(coachbot, guild)) == 2


async def test_referral_commission_shows_zero_until_set(driver, admin):
    reply = (await driver.slash(admin, "coaching setup")).last
    assert fields_of(reply.embeds[0])["Referral commission"] == "0 %"


@pytest.mark.parametrize("percent", [101, -1, 1000])
async def test_referral_commission_outside_0_to_100_is_refused(driver, coachbot, guild, admin,
                                                               percent):
    reply = await assert_refused(driver, coachbot, guild, admin, "whole number from 0 to 100",
                                 referral_commission_percent=percent)
    assert reply.content.startswith("The referral commission is the percentage")


async def test_retention_beyond_a_year_is_refused(driver, coachbot, guild, admin):
    await assert_refused(driver, coachbot, guild, admin, "0 to 365 days",
                         channel_retention_days=400)
