"""The dpytest fixes: what Coachbot's provisioning needs works under discord.py 2.7."""

from __future__ import annotations

import io

import discord
import discord.ext.test as dpytest
import pytest

from tests.harness import close_dms, open_dms, sent_payload
from tests.harness.dpytest_fixes import apply


@pytest.fixture
def guild(harness_bot) -> discord.Guild:
    return dpytest.get_config().guilds[0]


@pytest.fixture
def members(harness_bot) -> list[discord.Member]:
    return dpytest.get_config().members


def test_apply_is_idempotent(harness_bot):
    from discord.ext.test import backend

    before = backend.FakeHttp.send_message, backend.make_role, backend.configure
    apply()
    assert (backend.FakeHttp.send_message, backend.make_role, backend.configure) == before


async def test_create_role_with_colour_reads_back(guild):
    role = await guild.create_role(name="Coaching Access", colour=discord.Colour(0x3498DB))

    assert role.colour.value == 0x3498DB
    cached = guild.get_role(role.id)
    assert cached is not None and cached.name == "Coaching Access"
    assert cached.colour.value == 0x3498DB

    await role.edit(colour=discord.Colour(0x2ECC71), name="Students")
    assert guild.get_role(role.id).colour.value == 0x2ECC71
    assert guild.get_role(role.id).name == "Students"


async def test_private_channel_keeps_its_overwrites(guild, members):
    student, outsider = members
    category = await guild.create_category("Sessions")
    private = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        student: discord.PermissionOverwrite(view_channel=True),
    }
    channel = await guild.create_text_channel("session-1", category=category, overwrites=private,
                                              topic="Alice x Bob")

    for ch in (channel, guild.get_channel(channel.id)):
        assert ch.category == category
        assert ch.topic == "Alice x Bob"
        assert ch.overwrites_for(guild.default_role).view_channel is False
        assert ch.overwrites_for(student).view_channel is True
        assert ch.permissions_for(student).view_channel
        assert not ch.permissions_for(outsider).view_channel


async def test_voice_channel_in_category(guild):
    category = await guild.create_category("Sessions")
    voice = await guild.create_voice_channel("session-1 voice", category=category)

    assert isinstance(voice, discord.VoiceChannel)
    assert voice.category == category
    assert guild.get_channel(voice.id).bitrate == voice.bitrate > 0


async def test_set_permissions_edit_and_delete(guild, members):
    student = members[0]
    channel = await guild.create_text_channel("session-2")

    await channel.set_permissions(student, view_channel=True, send_messages=True)
    assert channel.overwrites_for(student).send_messages is True

    await channel.set_permissions(student, overwrite=None)
    assert student not in channel.overwrites

    hidden = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        guild.me: discord.PermissionOverwrite(view_channel=True),
    }
    await channel.edit(name="session-2-renamed", overwrites=hidden)
    assert channel.name == "session-2-renamed"
    assert channel.overwrites_for(guild.default_role).view_channel is False

    await channel.delete()
    assert guild.get_channel(channel.id) is None


async def test_bot_that_hides_a_channel_from_itself_cannot_manage_it(guild):
    """As on Discord: without its own overwrite the bot loses sight of a private channel."""
    channel = await guild.create_text_channel(
        "private", overwrites={guild.default_role: discord.PermissionOverwrite(view_channel=False)})

    with pytest.raises(discord.Forbidden):
        await channel.delete()


async def test_deleting_a_category_keeps_its_channels(guild):
    category = await guild.create_category("Old sessions")
    child = await guild.create_text_channel("kept", category=category)

    await category.delete()

    assert guild.get_channel(category.id) is None
    assert guild.get_channel(child.id) is not None
    assert guild.get_channel(child.id).category is None


async def test_bot_without_manage_channels_is_refused(guild):
    coachbot_role = next(r for r in guild.me.roles if r.name == "Coachbot")
    await coachbot_role.edit(permissions=discord.Permissions(send_messages=True))

    with pytest.raises(discord.Forbidden) as refused:
        await guild.create_text_channel("nope")
    assert refused.value.code == 50013


async def test_add_and_remove_roles(guild, members):
    student = members[0]
    role = await guild.create_role(name="Coaching Access")

    await student.add_roles(role)
    assert role in guild.get_member(student.id).roles
    assert isinstance(student.flags.value, int)

    await student.remove_roles(role)
    assert role not in guild.get_member(student.id).roles


async def test_dm_with_embed_file_and_view_is_captured(members):
    student = members[0]
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Join", custom_id="join:7"))
    await dpytest.empty_queue()

    sent = await student.send(
        "Your session starts soon",
        embed=discord.Embed(title="Reminder"),
        file=discord.File(io.BytesIO(b"BEGIN:VCALENDAR"), filename="session.ics"),
        view=view,
        allowed_mentions=discord.AllowedMentions.none(),
    )

    captured = dpytest.get_message()
    assert captured.id == sent.id
    assert captured.channel.id == student.dm_channel.id
    assert captured.embeds[0].title == "Reminder"
    assert captured.attachments[0].filename == "session.ics"
    assert await captured.attachments[0].read() == b"BEGIN:VCALENDAR"
    assert captured.components[0].children[0].custom_id == "join:7"
    assert sent_payload(sent)["allowed_mentions"]["parse"] == []


async def test_bot_edits_its_messages_but_not_others(harness_bot, members):
    student = members[0]
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Join", custom_id="join:8"))
    sent = await student.send("Session at 10:00", view=view)

    await sent.edit(content="Session moved to 11:00", view=None,
                    attachments=[discord.File(io.BytesIO(b"v2"), filename="session.ics")])

    fetched = await student.dm_channel.fetch_message(sent.id)
    assert fetched.content == "Session moved to 11:00"
    assert fetched.components == []
    assert await fetched.attachments[0].read() == b"v2"
    assert harness_bot._connection._get_message(sent.id).content == "Session moved to 11:00"

    theirs = await dpytest.message("my own words", member=student)
    with pytest.raises(discord.Forbidden) as refused:
        await theirs.edit(content="rewritten")
    assert refused.value.code == 50005


async def test_closed_dms_raise_forbidden_like_discord(members):
    student, other = members
    close_dms(student)

    with pytest.raises(discord.Forbidden) as refused:
        await student.send("hello")
    assert refused.value.code == 50007
    assert "Cannot send messages to this user" in str(refused.value)

    await other.send("still fine")
    open_dms(student)
    await student.send("open again")


async def test_plain_messages_have_components_and_reactions_work(harness_bot):
    message = await dpytest.message("hello")
    assert message.components == []

    await message.add_reaction("👍")
    await dpytest.add_reaction(dpytest.get_config().members[0], message, "👍")
