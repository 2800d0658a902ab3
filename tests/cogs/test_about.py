"""`/coaching about` end to end through discord.py's interaction pipeline."""

from bot.client import cog_extensions
from bot.services import bot_version
from tests.fixtures_bot import stripe_settings


async def test_about_answers_ephemerally_with_version_backend_and_stripe_status(driver, members):
    replies = await driver.slash(members[0], "coaching about")
    reply = replies.last
    assert reply.ephemeral
    embed = reply.embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Version"] == bot_version() != "unknown"
    assert fields["Database"] == "SQLite"
    assert fields["Payments"].startswith("Stripe not configured")
    assert "STRIPE_SECRET_KEY" in fields["Payments"]
    assert reply.allowed_mentions == {"parse": []}


async def test_about_reports_stripe_when_configured(make_coachbot, make_driver, bot_settings):
    bot = await make_coachbot(stripe_settings(bot_settings))
    driver = make_driver(bot)
    member = bot.guilds[0].members[-1]
    reply = (await driver.slash(member, "coaching about")).last
    fields = {f.name: f.value for f in reply.embeds[0].fields}
    assert fields["Payments"] == "Stripe configured"


def test_every_cog_module_is_loaded_as_an_extension(coachbot):
    assert set(coachbot.extensions) == set(cog_extensions())
    assert "cogs.coaching" in coachbot.extensions
