"""The command tree's single error handler, driven through real interactions."""

import re

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.ui import NOT_YOURS, OwnedView
from scheduling.errors import Conflict


class Failing(commands.Cog):
    @app_commands.command(name="domain-fail")
    async def domain_fail(self, interaction: discord.Interaction) -> None:
        raise Conflict("That slot was just taken. Pick another one.")

    @app_commands.command(name="bug")
    async def bug(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @app_commands.command(name="deferred-fail")
    async def deferred_fail(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise Conflict("Stripe is unreachable right now; nothing was charged.")

    @app_commands.command(name="server-only")
    async def server_only(self, interaction: discord.Interaction) -> None:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        await interaction.response.send_message("ok", ephemeral=True)

    @app_commands.command(name="needs-admin")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def needs_admin(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    @app_commands.command(name="owned")
    async def owned(self, interaction: discord.Interaction) -> None:
        view = OwnedView(interaction.user.id)
        button: discord.ui.Button[OwnedView] = discord.ui.Button(label="Go", custom_id="go")

        async def pressed(inner: discord.Interaction) -> None:
            raise Conflict("Already done.")

        button.callback = pressed
        view.add_item(button)
        await interaction.response.send_message("menu", view=view)


@pytest.fixture
async def failing_driver(coachbot, make_driver):
    await coachbot.add_cog(Failing())
    return make_driver(coachbot)


async def test_domain_error_becomes_its_ephemeral_message(failing_driver, members):
    reply = (await failing_driver.slash(members[0], "domain-fail")).last
    assert reply.ephemeral
    assert reply.content == "That slot was just taken. Pick another one."


async def test_unexpected_error_is_logged_with_an_id_the_user_sees(failing_driver, members):
    with failing_driver.expect_error_log(r"error_id=\w+ unexpected error in bug") as records:
        reply = (await failing_driver.slash(members[0], "bug")).last
    assert reply.ephemeral
    error_id = re.search(r"error id `(\w+)`", reply.content).group(1)
    assert f"error_id={error_id}" in records[0].getMessage()
    assert "kaboom" not in reply.content


async def test_error_after_defer_is_sent_as_follow_up(failing_driver, members):
    replies = await failing_driver.slash(members[0], "deferred-fail")
    assert replies.last.kind == "followup"
    assert replies.last.ephemeral
    assert replies.last.content.startswith("Stripe is unreachable")


async def test_server_only_command_in_dms_explains(failing_driver, members):
    reply = (await failing_driver.slash(members[0], "server-only", dm=True)).last
    assert reply.ephemeral
    assert "only works inside a server" in reply.content


async def test_missing_user_permission_is_named(failing_driver, members):
    reply = (await failing_driver.slash(members[1], "needs-admin")).last
    assert reply.ephemeral
    assert reply.content == "You need the Manage Server permission to use this."


async def test_owned_view_refuses_others_and_reports_domain_errors(failing_driver, members):
    menu = await failing_driver.slash(members[0], "owned")
    other = (await failing_driver.click(members[1], menu.last, "go")).last
    assert other.ephemeral and other.content == NOT_YOURS
    mine = (await failing_driver.click(members[0], menu.last, "go")).last
    assert mine.ephemeral and mine.content == "Already done."
