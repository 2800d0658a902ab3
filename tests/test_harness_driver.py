"""The interaction driver against a small test-only cog: commands, components, modals, DMs."""

from __future__ import annotations

import io

import discord
import discord.ext.test as dpytest
import pytest
from discord import app_commands
from discord.ext import commands

from tests.harness import (
    CommandUnavailableError,
    ComponentNotFoundError,
    InvalidInteractionInput,
)

COACHES = ["Alice", "Albert", "Bob"]


class OwnerView(discord.ui.View):
    """A menu only the user who opened it may use."""

    def __init__(self, owner_id: int) -> None:
        super().__init__(timeout=300)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("This menu is not yours.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Confirm", custom_id="confirm", style=discord.ButtonStyle.green)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        button.disabled = True
        await interaction.response.edit_message(content="Confirmed", view=self)

    @discord.ui.select(custom_id="slot", options=[
        discord.SelectOption(label="Mon 10:00", value="mon"),
        discord.SelectOption(label="Tue 11:00", value="tue"),
    ])
    async def slot(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {select.values[0]}", ephemeral=True)

    @discord.ui.button(label="Notes", custom_id="notes")
    async def notes(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(FeedbackModal())


class FeedbackModal(discord.ui.Modal, title="Session feedback"):
    notes = discord.ui.TextInput(label="Notes", custom_id="notes",
                                 style=discord.TextStyle.paragraph, max_length=200)
    rating = discord.ui.TextInput(label="Rating", custom_id="rating", required=False)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        rating = self.rating.value or "no rating"
        await interaction.response.send_message(f"thanks: {self.notes.value} ({rating})",
                                                ephemeral=True)


class SnoozeButton(discord.ui.DynamicItem[discord.ui.Button], template=r"snooze:(?P<id>\d+)"):
    """Survives restarts: the booking id travels in the custom_id."""

    def __init__(self, booking_id: int) -> None:
        super().__init__(discord.ui.Button(label="Snooze", custom_id=f"snooze:{booking_id}"))
        self.booking_id = booking_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match) -> SnoozeButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"snoozed booking {self.booking_id}",
                                                view=None)


class HarnessCog(commands.Cog):
    coaching = app_commands.Group(name="coaching", description="Coaching")
    admin = app_commands.Group(name="admin", description="Admin", parent=coaching)

    @coaching.command(name="about", description="About the bot")
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Coachbot 0.1.0", ephemeral=True)

    @admin.command(name="grant", description="Grant a role")
    async def grant(self, interaction: discord.Interaction, member: discord.Member,
                    role: discord.Role) -> None:
        await member.add_roles(role)
        await interaction.response.send_message(f"granted {role.name} to {member.name}",
                                                ephemeral=True)

    @app_commands.command(name="echo", description="Echo")
    @app_commands.rename(size="length")
    @app_commands.choices(size=[app_commands.Choice(name="Short", value="s"),
                                app_commands.Choice(name="Long", value="l")])
    async def echo(self, interaction: discord.Interaction, text: str, count: int,
                   who: discord.Member, upload: discord.Attachment,
                   size: app_commands.Choice[str], where: discord.TextChannel | None = None,
                   ) -> None:
        data = await upload.read()
        place = where.name if where else "-"
        await interaction.response.send_message(
            f"{text * count} {who.name} {size.name} {upload.filename}={data.decode()} {place}",
            ephemeral=True)

    @app_commands.command(name="slow", description="Defers then follows up")
    async def slow(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("done")
        await interaction.followup.send("and more", ephemeral=True)

    @app_commands.command(name="draft", description="Edits its answer")
    async def draft(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("draft")
        await interaction.edit_original_response(content="second")
        message = await interaction.original_response()
        await message.edit(content="final", embed=discord.Embed(title="Done"))

    @app_commands.command(name="tidy", description="Follows up, edits, deletes")
    async def tidy(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("temporary")
        kept = await interaction.followup.send("kept", wait=True)
        await kept.edit(content="kept (edited)")
        await interaction.delete_original_response()

    @app_commands.command(name="export", description="Sends a file")
    async def export(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(
            f"calendar for {text}", ephemeral=True, allowed_mentions=discord.AllowedMentions.none(),
            file=discord.File(io.BytesIO(b"BEGIN:VCALENDAR"), filename="sessions.ics"))

    @app_commands.command(name="pick", description="Pick a coach")
    async def pick(self, interaction: discord.Interaction, coach: str) -> None:
        await interaction.response.send_message(f"you picked {coach}", ephemeral=True)

    @pick.autocomplete("coach")
    async def pick_coach(self, interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=c, value=c) for c in COACHES
                if c.lower().startswith(current.lower())]

    @app_commands.command(name="menu", description="A menu with a button and a select")
    async def menu(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Choose", view=OwnerView(interaction.user.id))

    @app_commands.command(name="mine", description="An ephemeral menu")
    async def mine(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Only you see this",
                                                view=OwnerView(interaction.user.id), ephemeral=True)

    @app_commands.command(name="feedback", description="Opens a modal")
    async def feedback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @app_commands.command(name="where", description="Guild or DM")
    async def where(self, interaction: discord.Interaction) -> None:
        place = "dm" if interaction.guild is None else interaction.guild.name
        await interaction.response.send_message(place, ephemeral=True)

    @app_commands.command(name="setup", description="Admins only")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def setup(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("set up", ephemeral=True)


@pytest.fixture
async def bot(harness_bot):
    await harness_bot.add_cog(HarnessCog())
    harness_bot.add_dynamic_items(SnoozeButton)
    return harness_bot


@pytest.fixture
def driver(bot, make_driver):
    return make_driver(bot)


@pytest.fixture
def student(bot) -> discord.Member:
    return dpytest.get_config().members[0]


@pytest.fixture
def other(bot) -> discord.Member:
    return dpytest.get_config().members[1]


async def test_subcommand_answers_ephemerally(driver, student):
    r = await driver.slash(student, "coaching about")

    assert len(r) == 1
    assert r.last.kind == 4
    assert r.last.ephemeral
    assert r.ephemeral_text == "Coachbot 0.1.0"


async def test_subcommand_group_with_member_and_role(driver, student, other):
    guild = student.guild
    role = await guild.create_role(name="Coaching Access")

    r = await driver.slash(student, "coaching admin grant", member=other, role=role)

    assert r.ephemeral_text == f"granted Coaching Access to {other.name}"
    assert role in guild.get_member(other.id).roles


async def test_options_of_every_kind(driver, student, other):
    channel = student.guild.text_channels[0]
    r = await driver.slash(
        student, "echo", text="ab", count=2, who=other, size="l", where=channel,
        upload={"filename": "notes.txt", "content_type": "text/plain", "content": b"hi"})

    assert r.ephemeral_text == f"abab {other.name} Long notes.txt=hi {channel.name}"


async def test_options_are_checked_like_discord_does(driver, student, other):
    upload = {"filename": "a.txt", "content": b""}
    with pytest.raises(InvalidInteractionInput, match="must be one of"):
        await driver.slash(student, "echo", text="a", count=1, who=other, size="xl",
                           upload=upload)
    with pytest.raises(InvalidInteractionInput, match="requires option"):
        await driver.slash(student, "echo", text="a")
    with pytest.raises(InvalidInteractionInput, match="no option"):
        await driver.slash(student, "coaching about", verbose=True)
    with pytest.raises(CommandUnavailableError, match="no slash command"):
        await driver.slash(student, "nope")
    category = await student.guild.create_category("Sessions")
    with pytest.raises(InvalidInteractionInput, match="accepts"):
        await driver.slash(student, "echo", text="a", count=1, who=other, size="s",
                           upload=upload, where=category)


async def test_deferred_command_follows_up(driver, student):
    r = await driver.slash(student, "slow")

    assert [x.kind for x in r] == [5, "followup", "followup"]
    deferred, first, second = r
    assert deferred.ephemeral and deferred.content == ""
    # the first follow-up replaces the "thinking..." message and keeps its ephemeral flag
    assert first.message_id == deferred.message_id and first.ephemeral
    assert second.message_id != deferred.message_id
    assert r.ephemeral_text == "done\nand more"


async def test_command_edits_its_original_response(driver, student):
    r = await driver.slash(student, "draft")

    assert [x.kind for x in r] == [4, "edit", "edit"]
    assert {x.message_id for x in r} == {r.first.message_id}
    assert r.last.content == "final"
    assert r.last.embeds[0].title == "Done"
    assert not r.last.ephemeral
    # public interaction messages are known to dpytest, as Discord's gateway would announce them
    fetched = await student.guild.text_channels[0].fetch_message(r.last.message_id)
    assert fetched.content == "final"


async def test_follow_up_edit_and_delete(driver, student):
    r = await driver.slash(student, "tidy")

    assert [x.kind for x in r] == [4, "followup", "edit", "delete"]
    original, followup, edit, delete = r
    assert edit.message_id == followup.message_id and edit.content == "kept (edited)"
    assert delete.message_id == original.message_id
    channel = student.guild.text_channels[0]
    assert (await channel.fetch_message(followup.message_id)).content == "kept (edited)"
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(original.message_id)


async def test_files_and_allowed_mentions_are_recorded(driver, student):
    r = await driver.slash(student, "export", text="@everyone")

    assert r.last.files[0].filename == "sessions.ics"
    assert r.last.files[0].data == b"BEGIN:VCALENDAR"
    assert r.last.allowed_mentions == {"parse": []}


async def test_autocomplete_offers_matching_choices(driver, student):
    choices = await driver.autocomplete(student, "pick", focused="coach", value="al")

    assert [c.name for c in choices] == ["Alice", "Albert"]
    r = await driver.slash(student, "pick", coach=choices[0].value)
    assert r.ephemeral_text == "you picked Alice"


async def test_button_and_select_for_the_owner(driver, student):
    menu = await driver.slash(student, "menu")
    assert menu.last.custom_ids == ["confirm", "notes", "slot"]  # buttons row, then select row

    picked = await driver.select(student, menu.last, "slot", ["tue"])
    assert picked.ephemeral_text == "picked tue"

    confirmed = await driver.click(student, menu.last, "confirm")
    assert confirmed.last.kind == 7
    assert confirmed.last.message_id == menu.last.message_id
    assert confirmed.last.content == "Confirmed"
    assert confirmed.last.component("confirm")["disabled"] is True
    with pytest.raises(ComponentNotFoundError, match="disabled"):
        await driver.click(student, menu.last, "confirm")


async def test_another_users_click_is_refused_ephemerally(driver, student, other):
    menu = await driver.slash(student, "menu")

    r = await driver.select(other, menu.last, "slot", ["mon"])

    assert r.last.ephemeral
    assert r.ephemeral_text == "This menu is not yours."
    with pytest.raises(InvalidInteractionInput, match="not among the options"):
        await driver.select(student, menu.last, "slot", ["sun"])


async def test_modal_from_a_command(driver, student):
    opened = await driver.slash(student, "feedback")
    assert opened.last.kind == 9
    assert opened.modal.title == "Session feedback"
    assert set(opened.modal.fields) == {"notes", "rating"}

    r = await driver.submit_modal(student, opened, {"notes": "great session"})

    assert r.ephemeral_text == "thanks: great session (no rating)"
    with pytest.raises(InvalidInteractionInput, match="required"):
        await driver.submit_modal(student, await driver.slash(student, "feedback"), {})


async def test_modal_from_a_button(driver, student):
    menu = await driver.slash(student, "menu")
    opened = await driver.click(student, menu.last, "notes")

    r = await driver.submit_modal(student, opened, {"notes": "ok", "rating": "5"})

    assert r.ephemeral_text == "thanks: ok (5)"


async def test_dynamic_button_in_a_dm_sent_through_dpytest(driver, bot, student):
    view = discord.ui.View(timeout=None)
    view.add_item(SnoozeButton(42))
    reminder = await student.send("Your session starts in 1 hour", view=view)

    r = await driver.click(student, reminder, "snooze:42")

    assert r.last.kind == 7
    assert r.last.content == "snoozed booking 42"
    assert r.last.components == []
    fetched = await student.dm_channel.fetch_message(reminder.id)
    assert fetched.content == "snoozed booking 42"


async def test_button_on_a_channel_message_sent_through_dpytest(driver, student, other):
    channel = student.guild.text_channels[0]
    message = await channel.send("Pick a slot", view=OwnerView(student.id))

    assert (await driver.click(other, message, "confirm")).ephemeral_text == (
        "This menu is not yours.")
    assert (await driver.click(student, message, "confirm")).last.content == "Confirmed"


async def test_command_in_dms(driver, student):
    assert (await driver.slash(student, "where", dm=True)).ephemeral_text == "dm"
    assert (await driver.slash(student._user, "where")).ephemeral_text == "dm"
    assert (await driver.slash(student, "where")).ephemeral_text == student.guild.name


async def test_commands_discord_would_not_offer(driver, student):
    with pytest.raises(CommandUnavailableError, match="not available in DMs"):
        await driver.slash(student, "setup", dm=True)
    with pytest.raises(CommandUnavailableError, match="default permissions"):
        await driver.slash(student, "setup")

    admin = await student.guild.create_role(
        name="Admins", permissions=discord.Permissions(manage_guild=True))
    await student.add_roles(admin)
    assert (await driver.slash(student, "setup")).ephemeral_text == "set up"


async def test_users_only_reach_what_they_can_see(driver, student, other):
    mine = await driver.slash(student, "mine")
    with pytest.raises(ComponentNotFoundError, match="ephemeral"):
        await driver.click(other, mine.last, "confirm")
    assert (await driver.click(student, mine.last, "confirm")).last.content == "Confirmed"

    guild = student.guild
    hidden = {guild.default_role: discord.PermissionOverwrite(view_channel=False),
              guild.me: discord.PermissionOverwrite(view_channel=True)}
    private = await guild.create_text_channel("session-1", overwrites=hidden)
    with pytest.raises(CommandUnavailableError, match="cannot see"):
        await driver.slash(student, "coaching about", channel=private)
    await private.set_permissions(student, view_channel=True)
    assert (await driver.slash(student, "where", channel=private)).ephemeral_text == guild.name
