"""`/coaching ...`: server-level commands. `about` is for everyone; `setup`, `coaches` and
`doctor` need the Manage Server permission. The whole group only exists inside servers."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.audit_log import channel_text, log_channel_problem, post_audit, role_text
from bot.client import CoachBot
from bot.guild_facts import doctor_facts, role_facts
from scheduling import export as export_service
from scheduling import server_setup as setup_service
from scheduling.doctor import ALL_GOOD, DoctorReport, Severity, diagnose
from scheduling.errors import InvalidInput, NotConfigured
from scheduling.money import Money
from scheduling.payouts import CoachEarnings, coach_earnings
from scheduling.referrals import ReferrerCommission, referral_commissions
from scheduling.server_setup import (
    ACCESS_ROLE_NAME,
    CATEGORY_NAME,
    CoachRoster,
    ServerConfig,
    SetupRequest,
)

FIELD_LIMIT = 1024
ROLES_PATH = "Server Settings > Roles"


def about_embed(version: str, backend: str, stripe_configured: bool) -> discord.Embed:
    embed = discord.Embed(title="Coachbot", colour=discord.Colour.blurple(),
                          description="Sell and run coaching sessions inside Discord.")
    embed.add_field(name="Version", value=version)
    embed.add_field(name="Database", value="PostgreSQL" if backend == "postgresql" else "SQLite")
    embed.add_field(
        name="Payments",
        value="Stripe configured" if stripe_configured else
        "Stripe not configured: only free offerings can be booked "
        "(set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)",
        inline=False,
    )
    return embed


def config_embed(guild: discord.Guild, config: ServerConfig, *, headline: str,
                 notes: tuple[str, ...] = ()) -> discord.Embed:
    """The server's coaching configuration as an admin reads it."""
    embed = discord.Embed(title="Coaching setup", colour=discord.Colour.blurple(),
                          description=headline)
    embed.add_field(name="Coaching Access role", value=role_text(guild, config.access_role_id))
    embed.add_field(name="Session category", value=channel_text(guild, config.category_id))
    embed.add_field(name="Log channel", value=channel_text(guild, config.log_channel_id))
    embed.add_field(
        name="Required role to book",
        value=role_text(guild, config.required_role_id) if config.required_role_id is not None
        else "none: everybody can book")
    embed.add_field(name="Currency", value=config.currency)
    embed.add_field(name="Platform fee", value=f"{config.platform_fee_percent} %")
    embed.add_field(name="Referral commission",
                    value=f"{config.referral_commission_percent} %")
    embed.add_field(name="Channel retention", value=f"{config.channel_retention_days} days")
    embed.add_field(name="Cancellation policy", value="\n".join(config.policy.describe()),
                    inline=False)
    if config.log_channel_id is not None:
        problem = log_channel_problem(guild, config.log_channel_id)
        if problem is not None:
            embed.add_field(name="Warning", inline=False, value=(
                f"I cannot post the audit trail in the log channel: {problem}. "
                "Run `/coaching doctor` for how to fix it."))
    if notes:
        embed.add_field(name="Notes", value="\n".join(notes)[:FIELD_LIMIT], inline=False)
    embed.set_footer(text="Run /coaching doctor to check my permissions.")
    return embed


def setup_headline(changed: tuple[str, ...], *, asked: bool) -> str:
    if changed:
        return "Changed: " + ", ".join(setup_service.FIELD_LABELS[k] for k in changed) + "."
    if asked:
        return "Nothing changed: that is already the configuration."
    return ("This is the current configuration. Change it with the options of "
            "`/coaching setup`.")


def doctor_embed(report: DoctorReport) -> discord.Embed:
    if report.all_good:
        return discord.Embed(title="Coachbot doctor", colour=discord.Colour.green(),
                             description=ALL_GOOD)
    problems, warnings = len(report.problems), len(report.warnings)
    counts = [f"{problems} problem{'s' if problems != 1 else ''}"] if problems else []
    if warnings:
        counts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    embed = discord.Embed(
        title="Coachbot doctor",
        colour=discord.Colour.red() if problems else discord.Colour.orange(),
        description=f"Found {' and '.join(counts)}. Fix them in this order, then run "
                    "`/coaching doctor` again.")
    for finding in report.findings[:25]:
        prefix = "Problem" if finding.severity is Severity.PROBLEM else "Warning"
        value = f"{finding.detail}\n**Fix:** {finding.fix}"
        embed.add_field(name=f"{prefix}: {finding.title}"[:256], value=value[:FIELD_LIMIT],
                        inline=False)
    return embed


def _lines_field(lines: list[str], empty: str) -> str:
    if not lines:
        return empty
    shown: list[str] = []
    for index, line in enumerate(lines):
        more = f"… and {len(lines) - index} more"
        if len("\n".join([*shown, line, more])) > FIELD_LIMIT:
            shown.append(more)
            break
        shown.append(line)
    return "\n".join(shown)


def roster_embed(guild: discord.Guild, roster: CoachRoster) -> discord.Embed:
    embed = discord.Embed(title="Coaches", colour=discord.Colour.blurple())
    if not roster.member_ids and not roster.role_ids:
        embed.description = ("Nobody can coach yet. Add coaches with "
                             "`/coaching coaches add member:` or `role:`.")
    members = []
    for user_id in roster.member_ids:
        name = roster.profile_names.get(user_id)
        members.append(f"<@{user_id}>" + (f" · profile: {name}" if name else " · no profile yet"))
    roles = []
    for role_id in roster.role_ids:
        role = guild.get_role(role_id)
        count = f" ({len(role.members)} members)" if role is not None else ""
        roles.append(role_text(guild, role_id) + count)
    embed.add_field(name="Members", value=_lines_field(members, "none"), inline=False)
    embed.add_field(name="Roles", value=_lines_field(roles, "none"), inline=False)
    through_roles = [f"<@{uid}> · profile: {name}" for uid, name in roster.profiles_through_roles()]
    if through_roles:
        embed.add_field(name="Other coach profiles (through a role or a removed grant)",
                        value=_lines_field(through_roles, "none"), inline=False)
    return embed


async def currency_choices(interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=label, value=code)
            for code, label in setup_service.search_currencies(current)]


def _grant_target(member: discord.Member | None, role: discord.Role | None
                  ) -> tuple[str, int, str]:
    """(kind, id, mention text) of the one target given."""
    if (member is None) == (role is None):
        raise InvalidInput("Give either a `member` or a `role` (exactly one of them).")
    if member is not None:
        if member.bot:
            raise InvalidInput(f"{member.mention} is a bot; bots cannot coach. Pick a member.")
        return "member", member.id, member.mention
    assert role is not None
    return "role", role.id, role_text(role.guild, role.id)


class Coaching(commands.Cog):
    coaching = app_commands.Group(name="coaching", description="Coaching on this server",
                                  guild_only=True)
    coaches = app_commands.Group(name="coaches", description="Who may act as a coach",
                                 parent=coaching)

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    @coaching.command(name="about", description="Version, database and payment status of the bot")
    async def about(self, interaction: discord.Interaction) -> None:
        services = self.bot.services
        embed = about_embed(services.version, services.database_backend,
                            services.settings.stripe_configured)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # ------------------------------------------------------------ setup

    @coaching.command(name="setup",
                      description="Configure coaching here; without options, show the setup")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        access_role="The role students get after booking (must be below my role)",
        create_access_role=f"Let me create a '{ACCESS_ROLE_NAME}' role",
        category="The category private session channels are created in",
        create_category=f"Let me create a private '{CATEGORY_NAME}' category",
        log_channel="Where configuration changes are posted",
        required_role="A role students must hold to book (e.g. your verified role)",
        currency="The currency prices are in (3-letter code, like USD)",
        cancel_notice_hours="Students may cancel until this many hours before a session",
        refund_percent="Refund for cancelling in time, 0-100",
        platform_fee_percent="Share of each paid session the server keeps, 0-100 (coaches "
                             "with linked payouts get the rest)",
        referral_commission_percent="Share of a referred booking's payment its referrer "
                                    "earns, 0-100 (see /referral link)",
        channel_retention_days="Days session channels are kept after a session ends",
        clear="Remove an optional setting",
    )
    @app_commands.choices(clear=[
        app_commands.Choice(name="log channel", value="log_channel"),
        app_commands.Choice(name="required role", value="required_role"),
    ])
    @app_commands.autocomplete(currency=currency_choices)
    async def setup_command(
        self, interaction: discord.Interaction,
        access_role: discord.Role | None = None,
        create_access_role: bool = False,
        category: discord.CategoryChannel | None = None,
        create_category: bool = False,
        log_channel: discord.TextChannel | None = None,
        required_role: discord.Role | None = None,
        currency: str | None = None,
        cancel_notice_hours: int | None = None,
        refund_percent: int | None = None,
        platform_fee_percent: int | None = None,
        referral_commission_percent: int | None = None,
        channel_retention_days: int | None = None,
        clear: app_commands.Choice[str] | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None  # the group is guild-only
        services = self.bot.services
        async with services.uow() as uow:
            current = await setup_service.get_config(uow, guild.id)
        existing_role = (guild.get_role(current.access_role_id)
                         if current.access_role_id is not None else None)
        existing_category = (guild.get_channel(current.category_id)
                             if current.category_id is not None else None)
        request = SetupRequest(
            access_role=role_facts(guild, access_role) if access_role else None,
            create_access_role=create_access_role,
            existing_access_role=role_facts(guild, existing_role) if existing_role else None,
            category_id=category.id if category else None,
            create_category=create_category,
            existing_category_id=existing_category.id
            if isinstance(existing_category, discord.CategoryChannel) else None,
            log_channel_id=log_channel.id if log_channel else None,
            required_role=role_facts(guild, required_role) if required_role else None,
            currency=currency,
            cancel_notice_hours=cancel_notice_hours,
            refund_percent=refund_percent,
            platform_fee_percent=platform_fee_percent,
            referral_commission_percent=referral_commission_percent,
            channel_retention_days=channel_retention_days,
            clear=frozenset([clear.value]) if clear else frozenset(),
        )
        if request.is_empty:
            embed = config_embed(guild, current, headline=setup_headline((), asked=False))
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return

        plan = setup_service.plan_setup(current, request)  # raises before anything is made
        if plan.create_access_role or plan.create_category:
            await interaction.response.defer(ephemeral=True, thinking=True)
        actor = interaction.user
        if plan.create_access_role:
            role = await self._create_access_role(guild, actor)
            plan = plan.with_value("access_role_id", role.id)
        if plan.create_category:
            created = await self._create_category(guild, actor)
            plan = plan.with_value("category_id", created.id)

        async with services.uow() as uow:
            result = await setup_service.apply_setup(
                uow, guild_id=guild.id, actor_id=actor.id, values=plan.values,
                now=services.clock())
            await uow.commit()
        await post_audit(guild, actor, result.audit)
        embed = config_embed(guild, result.after,
                             headline=setup_headline(result.changed, asked=True),
                             notes=plan.notes)
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _create_access_role(self, guild: discord.Guild,
                                  actor: discord.abc.User) -> discord.Role:
        if not guild.me.guild_permissions.manage_roles:
            raise NotConfigured(
                "I need the Manage Roles permission to create the role. Turn it on for my role "
                f"in {ROLES_PATH}, or pick an existing role with `access_role`.")
        try:
            return await guild.create_role(
                name=ACCESS_ROLE_NAME, permissions=discord.Permissions.none(), hoist=False,
                mentionable=False, reason=f"/coaching setup by {actor} ({actor.id})")
        except discord.Forbidden:
            raise NotConfigured(
                "Discord refused to let me create the role. Check that my role has Manage "
                f"Roles in {ROLES_PATH}, or pick an existing role with `access_role`."
            ) from None

    async def _create_category(self, guild: discord.Guild,
                               actor: discord.abc.User) -> discord.CategoryChannel:
        perms = guild.me.guild_permissions
        if not (perms.manage_channels and perms.manage_roles):
            raise NotConfigured(
                "I need the Manage Channels and Manage Roles permissions to create a private "
                f"category. Turn them on for my role in {ROLES_PATH}, or pick an existing "
                "category with `category`.")
        overwrites: dict[discord.Role | discord.Member | discord.Object,
                         discord.PermissionOverwrite] = {
            guild.default_role: discord.PermissionOverwrite(view_channel=False),
            guild.me: discord.PermissionOverwrite(view_channel=True, manage_channels=True,
                                                  manage_roles=True),
        }
        try:
            return await guild.create_category(
                CATEGORY_NAME, overwrites=overwrites,
                reason=f"/coaching setup by {actor} ({actor.id})")
        except discord.Forbidden:
            raise NotConfigured(
                "Discord refused to let me create the category. Check that my role has Manage "
                f"Channels in {ROLES_PATH}, or pick an existing category with `category`."
            ) from None

    # ------------------------------------------------------------ coaches

    @coaches.command(name="add", description="Let a member, or everyone with a role, coach")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(member="The member who may coach", role="Everyone with this role "
                           "may coach")
    async def coaches_add(self, interaction: discord.Interaction,
                          member: discord.Member | None = None,
                          role: discord.Role | None = None) -> None:
        guild = interaction.guild
        assert guild is not None
        kind, target_id, shown = _grant_target(member, role)
        services = self.bot.services
        async with services.uow() as uow:
            change = await setup_service.add_coach(
                uow, guild_id=guild.id, actor_id=interaction.user.id, kind=kind,
                target_id=target_id, now=services.clock())
            await uow.commit()
        await post_audit(guild, interaction.user, change.audit)
        if not change.changed:
            text = (f"{shown} is already a coach." if kind == "member"
                    else f"{shown} already has coach rights.")
        elif kind == "member":
            text = (f"{shown} is now a coach. They can fill in their profile with "
                    "`/coach profile`.")
        else:
            text = (f"Everyone with {shown} can now act as a coach. Each fills in a profile "
                    "with `/coach profile`.")
        await interaction.response.send_message(text, ephemeral=True)

    @coaches.command(name="remove", description="Withdraw coach rights from a member or a role")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(member="The member who should no longer coach",
                           role="The role that should no longer give coach rights")
    async def coaches_remove(self, interaction: discord.Interaction,
                             member: discord.Member | None = None,
                             role: discord.Role | None = None) -> None:
        guild = interaction.guild
        assert guild is not None
        kind, target_id, shown = _grant_target(member, role)
        services = self.bot.services
        async with services.uow() as uow:
            change = await setup_service.remove_coach(
                uow, guild_id=guild.id, actor_id=interaction.user.id, kind=kind,
                target_id=target_id, now=services.clock())
            roster = await setup_service.coach_roster(uow, guild.id)
            await uow.commit()
        await post_audit(guild, interaction.user, change.audit)
        if change.changed:
            text = (f"{shown} is no longer a coach." if kind == "member"
                    else f"{shown} no longer gives coach rights.")
            if member is not None:
                via = [r for r in member.roles if r.id in roster.role_ids]
                if via:
                    text += (f" They still coach through {role_text(guild, via[0].id)}; "
                             "remove that role from them or from the coaches.")
        elif kind == "role":
            text = f"{shown} does not give coach rights, so there was nothing to remove."
        else:
            via = [r for r in member.roles if r.id in roster.role_ids] if member else []
            text = f"{shown} is not a coach, so there was nothing to remove."
            if via:
                text = (f"{shown} is a coach through {role_text(guild, via[0].id)}, not on "
                        "their own. Remove that role from them, or use "
                        "`/coaching coaches remove role:`.")
        await interaction.response.send_message(text, ephemeral=True)

    @coaches.command(name="list", description="Members and roles with coach rights")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def coaches_list(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        async with self.bot.services.uow() as uow:
            roster = await setup_service.coach_roster(uow, guild.id)
        await interaction.response.send_message(embed=roster_embed(guild, roster),
                                                ephemeral=True)

    # ------------------------------------------------------------ doctor

    @coaching.command(name="doctor", description="Check my permissions and the setup, and say "
                      "how to fix what is wrong")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def doctor(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        services = self.bot.services
        async with services.uow() as uow:
            inputs = await setup_service.doctor_inputs(uow, guild.id)
        facts = doctor_facts(guild, inputs.config,
                             stripe_configured=services.settings.stripe_configured,
                             paid_published_offerings=inputs.paid_published_offerings)
        await interaction.response.send_message(embed=doctor_embed(diagnose(facts)),
                                                ephemeral=True)

    # ------------------------------------------------------------ export (issue 9)

    @coaching.command(name="export", description="Bookings in a date range as a CSV file")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.rename(first="from", last="to")
    @app_commands.describe(first="First day (UTC), like 2026-11-01",
                           last="Last day (UTC, included), like 2026-11-30")
    async def export(self, interaction: discord.Interaction, first: str, last: str) -> None:
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:  # read only
            made = await export_service.export_bookings(
                uow, guild_id=interaction.guild_id, first_text=first, last_text=last)
        await interaction.response.send_message(
            f"{made.rows} booking{'' if made.rows == 1 else 's'} starting from "
            f"{made.first.isoformat()} to {made.last.isoformat()} (UTC).", ephemeral=True,
            file=discord.File(io.BytesIO(made.data), filename=made.filename))

    # ------------------------------------------------------------ earnings

    @coaching.command(name="earnings",
                      description="What each coach earned from paid sessions, and is owed")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def earnings(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:
            rows = await coach_earnings(uow, guild_id=interaction.guild_id)
            referred = await referral_commissions(uow, guild_id=interaction.guild_id)
        await interaction.response.send_message(embed=earnings_embed(rows, referred),
                                                ephemeral=True)


EARNINGS_FIELDS = 24  # Discord allows 25 fields; the last one says how many were left out


def earnings_embed(rows: list[CoachEarnings],
                   referred: list[ReferrerCommission] | None = None) -> discord.Embed:
    """Per coach and currency: paid sessions, refunds, the server's fee, and what the server
    owes (coaches without a ready Stripe account) or Stripe paid out (destination charges);
    last, the referral commissions the server owes its referrers."""
    embed = discord.Embed(title="Coach earnings", colour=discord.Colour.blurple())
    if not rows:
        embed.description = "No paid sessions yet, so no coach is owed anything."
    else:
        _add_coach_fields(embed, rows, EARNINGS_FIELDS - (1 if referred else 0))
    if referred:
        embed.add_field(name="Referral commissions (the server pays these)", inline=False,
                        value=_lines_field([_referral_line(r) for r in referred], "none"))
    return embed


def _add_coach_fields(embed: discord.Embed, rows: list[CoachEarnings], room: int) -> None:
    owed: dict[str, int] = {}
    for row in rows:
        owed[row.owed.currency] = owed.get(row.owed.currency, 0) + row.owed.minor
    totals = ", ".join(str(Money(minor, currency))
                       for currency, minor in sorted(owed.items()) if minor)
    headline = (f"The server owes coaches {totals} in total." if totals
                else "The server owes coaches nothing.")
    embed.description = (
        f"**{headline}** Paid sessions so far, after refunds "
        "and the server's fee. *Owed*: money kept by the server's Stripe account for coaches "
        "without a linked payout account (`/coach payouts`); pay it to them yourself. "
        "*Paid out*: sent by Stripe to the coach's own account.")
    for row in rows[:room]:
        sessions = f"{row.sessions} session{'s' if row.sessions != 1 else ''}"
        embed.add_field(name=f"{row.display_name} ({row.gross.currency})", inline=False, value=(
            f"{sessions} · paid {_amount(row.gross)} · refunded {_amount(row.refunded)} · "
            f"fee {_amount(row.platform_fee)}\n**Owed: {_amount(row.owed)}** · "
            f"paid out: {_amount(row.transferred)}")[:FIELD_LIMIT])
    if len(rows) > room:
        embed.add_field(name="More", inline=False,
                        value=f"{len(rows) - room} more coach totals not shown.")


def _referral_line(row: ReferrerCommission) -> str:
    """`<@id>` renders as the member's name inside an embed and pings nobody."""
    booked = f"{row.bookings} referred booking{'s' if row.bookings != 1 else ''}"
    refunded = f" ({row.fully_refunded} fully refunded)" if row.fully_refunded else ""
    return (f"<@{row.referrer_id}> ({row.kept.currency}): {booked}{refunded} · kept "
            f"{_amount(row.kept)} · **commission {_amount(row.commission)}**")


def _amount(money: Money) -> str:
    return str(money) if money.minor else "nothing"  # format_money says "Free" for zero


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Coaching(bot))
