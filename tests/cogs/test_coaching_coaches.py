"""`/coaching coaches add|remove|list` end to end, with the audit trail."""

import discord
import pytest
from discord.ext.test import backend

from scheduling.coach_access import require_coach
from tests.harness import grant_permissions, sent_payload


@pytest.fixture
def admin(members):
    grant_permissions(members[0], discord.Permissions(manage_guild=True), name="Admins")
    return members[0]


async def grants(bot, guild):
    async with bot.services.uow() as uow:
        return [(g.kind, g.target_id) for g in await uow.coach_grants.list_for_guild(guild.id)]


async def audit_rows(bot, guild):
    async with bot.services.uow() as uow:
        return list(reversed(await uow.audit.list_for_guild(guild.id)))


async def posts_in(channel):
    try:
        return sorted([m async for m in channel.history(limit=20)], key=lambda m: m.id)
    except KeyError:  # dpytest keeps no message list for a channel nobody wrote in
        return []


def fields_of(embed):
    return {f.name: f.value for f in embed.fields}


async def test_add_member_grants_audits_and_posts_to_the_log_channel(
        driver, coachbot, guild, admin, members):
    log_channel = guild.text_channels[1]
    await driver.slash(admin, "coaching setup", log_channel=log_channel)
    student = members[1]
    reply = (await driver.slash(admin, "coaching coaches add", member=student)).last
    assert reply.ephemeral
    assert reply.content == (f"{student.mention} is now a coach. They can fill in their "
                             "profile with `/coach profile`.")
    assert reply.allowed_mentions == {"parse": []}
    assert await grants(coachbot, guild) == [("member", student.id)]
    entry = (await audit_rows(coachbot, guild))[-1]
    assert (entry.actor_id, entry.action, entry.before, entry.after) == (
        admin.id, "coaches.add", None, {"coach_member_id": student.id})
    latest = (await posts_in(log_channel))[-1]
    embed = fields_of(latest.embeds[0])
    assert embed["Who"].startswith(admin.mention)
    assert embed["What"] == "Made a member a coach."
    assert embed["Before"] == "—"
    assert embed["After"] == f"**Coach (member)**: {student.mention}"
    assert sent_payload(latest)["allowed_mentions"] == {"parse": []}
    async with coachbot.services.uow() as uow:  # the grant opens the coach commands
        coach = await require_coach(uow, guild_id=guild.id, user_id=student.id, role_ids=[],
                                    display_name="Student")
        assert coach.user_id == student.id


async def test_adding_twice_says_already_a_coach_and_writes_nothing(driver, coachbot, guild,
                                                                     admin, members):
    await driver.slash(admin, "coaching coaches add", member=members[1])
    reply = (await driver.slash(admin, "coaching coaches add", member=members[1])).last
    assert reply.ephemeral
    assert reply.content == f"{members[1].mention} is already a coach."
    assert len(await audit_rows(coachbot, guild)) == 1


async def test_add_and_remove_a_role(driver, coachbot, guild, admin):
    coaches_role = backend.make_role("Coaches", guild, permissions=0)
    reply = (await driver.slash(admin, "coaching coaches add", role=coaches_role)).last
    assert reply.content == (f"Everyone with <@&{coaches_role.id}> can now act as a coach. "
                             "Each fills in a profile with `/coach profile`.")
    again = (await driver.slash(admin, "coaching coaches add", role=coaches_role)).last
    assert again.content == f"<@&{coaches_role.id}> already has coach rights."
    removed = (await driver.slash(admin, "coaching coaches remove", role=coaches_role)).last
    assert removed.content == f"<@&{coaches_role.id}> no longer gives coach rights."
    assert await grants(coachbot, guild) == []
    missing = (await driver.slash(admin, "coaching coaches remove", role=coaches_role)).last
    assert missing.content == (f"<@&{coaches_role.id}> does not give coach rights, so there "
                               "was nothing to remove.")
    actions = [(e.action, e.before, e.after) for e in await audit_rows(coachbot, guild)]
    assert actions == [("coaches.add", None, {"coach_role_id": coaches_role.id}),
                       ("coaches.remove", {"coach_role_id": coaches_role.id}, None)]


async def test_remove_member_and_removing_a_non_coach(driver, coachbot, guild, admin, members):
    await driver.slash(admin, "coaching coaches add", member=members[1])
    reply = (await driver.slash(admin, "coaching coaches remove", member=members[1])).last
    assert reply.ephemeral and reply.content == f"{members[1].mention} is no longer a coach."
    assert await grants(coachbot, guild) == []
    again = (await driver.slash(admin, "coaching coaches remove", member=members[1])).last
    assert again.content == (f"{members[1].mention} is not a coach, so there was nothing to "
                             "remove.")
    assert [e.action for e in await audit_rows(coachbot, guild)] == [
        "coaches.add", "coaches.remove"]


async def test_removing_a_member_who_coaches_through_a_role_says_so(driver, coachbot, guild,
                                                                    admin, members):
    coaches_role = backend.make_role("Coaches", guild, permissions=0)
    backend.update_member(members[2], roles=[coaches_role])
    await driver.slash(admin, "coaching coaches add", role=coaches_role)
    reply = (await driver.slash(admin, "coaching coaches remove", member=members[2])).last
    assert reply.content.startswith(
        f"{members[2].mention} is a coach through <@&{coaches_role.id}>, not on their own.")
    assert await grants(coachbot, guild) == [("role", coaches_role.id)]
    await driver.slash(admin, "coaching coaches add", member=members[2])
    both = (await driver.slash(admin, "coaching coaches remove", member=members[2])).last
    assert both.content == (f"{members[2].mention} is no longer a coach. They still coach "
                            f"through <@&{coaches_role.id}>; remove that role from them or "
                            "from the coaches.")


async def test_list_shows_members_roles_and_profile_names(driver, coachbot, guild, admin,
                                                          members):
    empty = (await driver.slash(admin, "coaching coaches list")).last
    assert empty.ephemeral
    assert empty.embeds[0].description.startswith("Nobody can coach yet")
    coaches_role = backend.make_role("Coaches", guild, permissions=0)
    backend.update_member(members[2], roles=[coaches_role])
    await driver.slash(admin, "coaching coaches add", member=members[1])
    await driver.slash(admin, "coaching coaches add", member=admin)
    await driver.slash(admin, "coaching coaches add", role=coaches_role)
    async with coachbot.services.uow() as uow:
        await uow.coaches.create(guild_id=guild.id, user_id=members[1].id,
                                 display_name="Ada @everyone")
        await uow.coaches.create(guild_id=guild.id, user_id=members[2].id, display_name="Bo")
        await uow.commit()
    reply = (await driver.slash(admin, "coaching coaches list")).last
    fields = fields_of(reply.embeds[0])
    assert fields["Members"].splitlines() == [
        f"{members[1].mention} · profile: Ada @everyone",
        f"{admin.mention} · no profile yet",
    ]
    assert fields["Roles"] == f"<@&{coaches_role.id}> (1 members)"
    assert fields["Other coach profiles (through a role or a removed grant)"] == (
        f"{members[2].mention} · profile: Bo")
    assert reply.allowed_mentions == {"parse": []}


@pytest.mark.parametrize("command", ["coaching coaches add", "coaching coaches remove"])
async def test_member_and_role_together_or_neither_are_refused(driver, coachbot, guild, admin,
                                                                members, command):
    role = backend.make_role("Coaches", guild, permissions=0)
    both = (await driver.slash(admin, command, member=members[1], role=role)).last
    neither = (await driver.slash(admin, command)).last
    for reply in (both, neither):
        assert reply.ephemeral
        assert reply.content == "Give either a `member` or a `role` (exactly one of them)."
    assert await grants(coachbot, guild) == []
    assert await audit_rows(coachbot, guild) == []


async def test_a_bot_cannot_be_made_a_coach(driver, coachbot, guild, admin):
    reply = (await driver.slash(admin, "coaching coaches add", member=guild.me)).last
    assert reply.ephemeral and "is a bot; bots cannot coach" in reply.content
    assert await grants(coachbot, guild) == []


@pytest.mark.parametrize("command", ["coaching coaches add", "coaching coaches remove",
                                     "coaching coaches list"])
async def test_non_admins_cannot_manage_coaches(driver, coachbot, guild, members, command):
    options = {} if command.endswith("list") else {"member": members[2]}
    reply = (await driver.slash(members[1], command, **options)).last
    assert reply.ephemeral
    assert reply.content == "You need the Manage Server permission to use this."
    assert await grants(coachbot, guild) == []
