"""The harness makes tests fail where Discord or discord.py would fail silently."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest
from discord import app_commands

from tests.harness import (
    InteractionTimeoutError,
    NoResponseError,
    UnhandledInteractionError,
)

ROOT = Path(__file__).resolve().parents[1]


@app_commands.command(name="boom", description="Raises")
async def boom(interaction: discord.Interaction) -> None:
    raise RuntimeError("kaboom")


@app_commands.command(name="silent", description="Never answers")
async def silent(interaction: discord.Interaction) -> None:
    pass


@app_commands.command(name="essay", description="Too long for Discord")
async def essay(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("x" * 2001)


@app_commands.command(name="crowded", description="A select with too many options")
async def crowded(interaction: discord.Interaction) -> None:
    view = discord.ui.View()
    options = [discord.SelectOption(label=f"Coach {i}", value=str(i)) for i in range(26)]
    view.add_item(discord.ui.Select(custom_id="coach", options=options))
    await interaction.response.send_message("Pick a coach", view=view)


@app_commands.command(name="eager", description="Follows up without answering first")
async def eager(interaction: discord.Interaction) -> None:
    await interaction.followup.send("too early")


@app_commands.command(name="lingering", description="Leaves a task running")
async def lingering(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("ok")
    asyncio.get_running_loop().create_task(asyncio.sleep(30), name="lingering-sleep")


@app_commands.command(name="sluggish", description="Answers too late")
async def sluggish(interaction: discord.Interaction) -> None:
    await asyncio.sleep(0.1)
    await interaction.response.send_message("late")


class BrokenView(discord.ui.View):
    @discord.ui.button(label="Break", custom_id="break")
    async def pressed(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        raise ValueError("button broke")


@app_commands.command(name="broken", description="A button that raises")
async def broken(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("press it", view=BrokenView())


@pytest.fixture
def driver(harness_bot, make_driver):
    for command in (boom, silent, essay, crowded, eager, lingering, broken, sluggish):
        harness_bot.tree.add_command(command)
    return make_driver(harness_bot, timeout=3.0)


@pytest.fixture
def member(harness_bot) -> discord.Member:
    return dpytest.get_config().members[0]


async def test_a_command_that_raises_raises_in_the_test(driver, member):
    with pytest.raises(UnhandledInteractionError, match="kaboom") as failed:
        await driver.slash(member, "boom")

    assert isinstance(failed.value.exception, app_commands.CommandInvokeError)
    assert isinstance(failed.value.exception.original, RuntimeError)


async def test_a_button_that_raises_raises_in_the_test(driver, member):
    menu = await driver.slash(member, "broken")

    with pytest.raises(UnhandledInteractionError, match="button broke"):
        await driver.click(member, menu.last, "break")


async def test_an_expected_error_log_can_be_declared(driver, member):
    with driver.expect_error_log(r"Ignoring exception in command 'boom'") as records:
        await driver.slash(member, "boom", require_response=False)

    assert records[0].exc_info[1].original.args == ("kaboom",)
    with (pytest.raises(AssertionError, match="expected an ERROR log"),
          driver.expect_error_log("never logged")):
        await driver.slash(member, "silent", require_response=False)


async def test_an_unanswered_interaction_fails(driver, member):
    with pytest.raises(NoResponseError, match="This interaction failed"):
        await driver.slash(member, "silent")
    assert await driver.slash(member, "silent", require_response=False) == []


@pytest.mark.parametrize(("command", "error"), [
    ("essay", "In content: Must be 2000 or fewer in length."),
    ("crowded", "options: Must be between 1 and 25 in length."),
    ("eager", "Unknown Webhook"),
])
async def test_what_discord_refuses_fails_the_test(driver, member, command, error):
    with pytest.raises(UnhandledInteractionError) as failed:
        await driver.slash(member, command, require_response=False)

    assert error in str(failed.value)
    assert isinstance(failed.value.exception.original, discord.HTTPException)


async def test_a_late_first_response_is_refused_like_discord(driver, member):
    driver.recorder.response_deadline = 0.05  # Discord's is 3 seconds

    with pytest.raises(UnhandledInteractionError, match="Unknown interaction"):
        await driver.slash(member, "sluggish", require_response=False)


async def test_tasks_still_running_time_out(driver, member):
    driver.timeout = 0.3
    with pytest.raises(InteractionTimeoutError, match="lingering-sleep"):
        await driver.slash(member, "lingering")

    driver.ignore_tasks("lingering-sleep")
    assert (await driver.slash(member, "lingering")).public_text == "ok"
    for task in asyncio.all_tasks():
        if task.get_name() == "lingering-sleep":
            task.cancel()


INNER_TESTS = '''
import logging

import discord.ext.test as dpytest
from discord import app_commands


@app_commands.command(name="boom", description="Raises")
async def boom(interaction):
    raise RuntimeError("kaboom")


async def test_crashing_command(harness_bot, make_driver):
    harness_bot.tree.add_command(boom)
    driver = make_driver(harness_bot)
    await driver.slash(dpytest.get_config().members[0], "boom")


async def test_error_logged_after_the_last_driver_call(harness_bot, make_driver):
    make_driver(harness_bot)
    logging.getLogger("discord.client").error(
        "Ignoring exception in on_message", exc_info=RuntimeError("late failure"))
'''


def test_a_crashing_command_fails_its_pytest_run(tmp_path):
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent(INNER_TESTS))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "tests.harness.fixtures",
         "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)

    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "1 failed" in output and "1 error" in output, output
    assert "UnhandledInteractionError" in output and "kaboom" in output, output
    assert "late failure" in output, output
