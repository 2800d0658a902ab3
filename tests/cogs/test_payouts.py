"""`/coach payouts` through the interaction driver, against the fake Stripe server: a coach
links a connected account once (Stripe `accounts` and `account_links` requests asserted) and
sees where they stand: not linked yet, onboarding unfinished, ready."""

from __future__ import annotations

import discord.ext.test as dpytest
import pytest

from bot.payments import STRIPE_NOT_CONFIGURED
from payments.stripe_gateway import StripeGateway
from scheduling.payouts import NOT_A_COACH_YET
from tests.cogs.booking_seed import seed_coach, setup_server
from tests.fixtures_bot import stripe_settings

ACCOUNTS = ("POST", "/v1/accounts")
LINKS = ("POST", "/v1/account_links")


@pytest.fixture
async def stripe_bot(make_coachbot, make_driver, bot_settings, stripe_client, fake_stripe):
    bot = await make_coachbot(stripe_settings(bot_settings))
    bot.payments.use_gateway(StripeGateway(stripe_client))
    guild = bot.guilds[0]
    student, _, coach_member = dpytest.get_config().members
    await setup_server(bot, guild)
    async with bot.services.uow() as uow:  # no command sets the fee yet
        (await uow.guild_settings.get(guild.id)).platform_fee_percent = 10
        await uow.commit()
    coach = await seed_coach(bot, coach_member, name="Coach Carla")
    driver = make_driver(bot)
    driver.ignore_tasks("RequestHandler.start")  # the fake Stripe server shares the loop
    return {"bot": bot, "driver": driver, "student": student, "coach_member": coach_member,
            "coach": coach, "fake": fake_stripe}


async def stored_account(bot, member):
    async with bot.services.uow() as uow:
        coach = await uow.coaches.get_by_user(member.guild.id, member.id)
    return coach.stripe_account_id


def link_button(response):
    [button] = response.components[0]["components"]
    return button


async def test_first_payouts_opens_an_account_and_links_to_onboarding(stripe_bot):
    bot, driver, member, fake = (stripe_bot[k] for k in ("bot", "driver", "coach_member",
                                                         "fake"))

    reply = (await driver.slash(member, "coach payouts")).last

    assert reply.ephemeral
    assert reply.content.startswith("**Payouts: not linked yet.**")
    assert "`/coaching earnings`" in reply.content
    account_id = await stored_account(bot, member)
    assert account_id is not None and account_id in fake.accounts
    [created] = fake.calls(*ACCOUNTS)
    assert created.params["type"] == "express"
    assert created.params["capabilities"] == {"transfers": {"requested": "true"}}
    assert created.params["metadata"]["user_id"] == str(member.id)
    assert created.params["metadata"]["coach_id"] == str(stripe_bot["coach"].id)
    link = fake.last(*LINKS).params
    assert (link["account"], link["type"]) == (account_id, "account_onboarding")
    public_url = bot.services.settings.web.public_url.rstrip("/")
    assert link["return_url"] == f"{public_url}/stripe/payouts/done"
    assert link["refresh_url"] == f"{public_url}/stripe/payouts/done?expired=1"
    button = link_button(reply)
    assert button["label"] == "Continue on Stripe"
    assert button["url"].startswith(f"https://connect.stripe.com/setup/e/{account_id}/")


async def test_unfinished_onboarding_reuses_the_account_with_a_fresh_link(stripe_bot):
    bot, driver, member, fake = (stripe_bot[k] for k in ("bot", "driver", "coach_member",
                                                         "fake"))
    first = (await driver.slash(member, "coach payouts")).last
    second = (await driver.slash(member, "coach payouts")).last

    assert second.content.startswith("**Payouts: onboarding not finished.**")
    assert len(fake.calls(*ACCOUNTS)) == 1
    assert len(fake.calls(*LINKS)) == 2
    assert link_button(second)["url"] != link_button(first)["url"]
    assert fake.last(*LINKS).params["account"] == await stored_account(bot, member)


async def test_a_finished_account_shows_ready_with_the_fee(stripe_bot):
    bot, driver, member, fake = (stripe_bot[k] for k in ("bot", "driver", "coach_member",
                                                         "fake"))
    await driver.slash(member, "coach payouts")
    account_id = await stored_account(bot, member)
    fake.add_account(account_id, ready=True)  # the coach finished Stripe's forms

    reply = (await driver.slash(member, "coach payouts")).last

    assert reply.content.startswith("**Payouts: ready.**")
    assert "minus the server's 10% fee" in reply.content
    assert link_button(reply)["label"] == "Update payout details"
    assert len(fake.calls(*ACCOUNTS)) == 1
    assert len(fake.calls("GET", "/v1/accounts/{id}")) == 2


async def test_members_without_a_coach_profile_get_nothing_from_stripe(stripe_bot):
    driver, student, fake = stripe_bot["driver"], stripe_bot["student"], stripe_bot["fake"]

    reply = await driver.slash(student, "coach payouts")

    assert reply.ephemeral_text == NOT_A_COACH_YET
    assert fake.calls(*ACCOUNTS) == [] and fake.calls(*LINKS) == []


async def test_payouts_without_stripe_say_the_host_must_configure_it(coachbot, driver, guild,
                                                                     members):
    coach_member = members[2]
    await seed_coach(coachbot, coach_member)

    reply = await driver.slash(coach_member, "coach payouts")

    assert reply.ephemeral_text == STRIPE_NOT_CONFIGURED
    assert await stored_account(coachbot, coach_member) is None
