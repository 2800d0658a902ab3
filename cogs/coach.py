"""`/coach ...`: a coach edits their profile; anyone looks at a coach's card.

`/coach profile [timezone] [avatar_url] [years]` opens a form (display name, bio, specialties,
hourly rate, credentials) prefilled with the current profile. Discord modals hold at most five
text inputs, so years of experience is a command option like the timezone and the avatar URL;
options left out keep their current value (`avatar_url: discord` goes back to the Discord
avatar, which is also the default).
"""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from bot.stats_chart import sessions_per_week_png
from cogs._coach_views import ProfileModal, coach_card_embed, timezone_choices, who
from cogs._reviews_views import ReviewsView, reviews_embed
from cogs._stats_views import CHART_NAME, stats_embed
from scheduling import coach_profiles
from scheduling.coach_profiles import MAX_YEARS, ProfileForm, ProfileOptions
from scheduling.payouts import PayoutsLink, start_payouts_onboarding
from scheduling.reviews import reviews_for
from scheduling.stats import DEFAULT_PERIOD, PERIODS, stats_for


class Coach(commands.Cog):
    coach = app_commands.Group(name="coach", description="Coach profiles and coach cards",
                               guild_only=True)

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    @coach.command(name="profile", description="Edit your coach profile (opens a form)")
    @app_commands.describe(
        timezone="Your timezone: type a city or an abbreviation like CET",
        avatar_url="Link to a picture for your card; `discord` uses your Discord avatar",
        years="Years of coaching experience",
    )
    @app_commands.autocomplete(timezone=timezone_choices)
    async def profile(self, interaction: discord.Interaction, timezone: str | None = None,
                      avatar_url: str | None = None,
                      years: app_commands.Range[int, 0, MAX_YEARS] | None = None) -> None:
        options = coach_profiles.validate_options(timezone, avatar_url, years)
        caller = who(interaction)
        async with self.bot.services.uow() as uow:
            form = await coach_profiles.open_profile(
                uow, guild_id=caller["guild_id"], user_id=caller["user_id"],
                role_ids=caller["role_ids"], member_name=caller["display_name"])
            currency = await coach_profiles.server_currency(uow, caller["guild_id"])
            # Nothing is committed here: the profile is written when the form is submitted.

        async def save(submitted: discord.Interaction, typed: ProfileForm) -> None:
            await self._save(submitted, typed, options)

        await interaction.response.send_modal(ProfileModal(form, currency=currency, save=save))

    async def _save(self, interaction: discord.Interaction, form: ProfileForm,
                    options: ProfileOptions) -> None:
        caller = who(interaction)
        async with self.bot.services.uow() as uow:
            saved = await coach_profiles.save_profile(
                uow, guild_id=caller["guild_id"], user_id=caller["user_id"],
                role_ids=caller["role_ids"], member_name=caller["display_name"],
                form=form, options=options)
            await uow.commit()
        card = coach_profiles.coach_card(saved.coach, self.bot.services.clock())
        lines = ["Profile saved. Students see this card:"]
        if saved.default_schedule_timezone_changed:
            lines.append(f"Your default schedule now uses {saved.coach.timezone} too; your "
                         "hours keep their wall-clock times.")
        if card.years_experience is None:
            lines.append("Tip: add your years of experience with `/coach profile years:`.")
        await interaction.response.send_message(
            "\n".join(lines), ephemeral=True,
            embed=coach_card_embed(card, fallback_avatar=interaction.user.display_avatar.url))

    @coach.command(name="show", description="Show a coach's card")
    @app_commands.describe(member="The coach (yourself when left out)")
    async def show(self, interaction: discord.Interaction,
                   member: discord.Member | None = None) -> None:
        target = member or interaction.user
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:
            card = await coach_profiles.card_for_member(
                uow, guild_id=interaction.guild_id, user_id=target.id,
                role_ids=[role.id for role in getattr(target, "roles", ())],
                member_name=target.display_name, now=self.bot.services.clock())
        await interaction.response.send_message(
            embed=coach_card_embed(card, fallback_avatar=target.display_avatar.url),
            ephemeral=True)


    # ------------------------------------------------------------ payouts

    @coach.command(name="payouts",
                   description="Link a Stripe account so paid sessions pay you directly")
    async def payouts(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        services = self.bot.services
        gateway = self.bot.payments.gateway  # NotConfigured without Stripe
        async with services.uow() as uow:
            coach = await uow.coaches.get_by_user(interaction.guild_id, interaction.user.id)
            was_linked = coach is not None and coach.stripe_account_id is not None
            settings = await uow.guild_settings.get(interaction.guild_id)
            fee_percent = settings.platform_fee_percent if settings else 0
        await interaction.response.defer(ephemeral=True, thinking=True)  # Stripe answers next
        link = await start_payouts_onboarding(
            services.uow, gateway,  # type: ignore[arg-type]  # StripeGateway has the Connect calls
            guild_id=interaction.guild_id, user_id=interaction.user.id,
            public_url=services.settings.web.public_url)
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(
            label="Update payout details" if link.ready else "Continue on Stripe",
            url=link.url, style=discord.ButtonStyle.link))
        await interaction.followup.send(payouts_text(link, was_linked=was_linked,
                                                     fee_percent=fee_percent),
                                        view=view, ephemeral=True)

    # ------------------------------------------------------------ reviews (issue 9)

    @coach.command(name="reviews", description="Read a coach's reviews")
    @app_commands.describe(member="The coach (yourself when left out)")
    async def reviews(self, interaction: discord.Interaction,
                      member: discord.Member | None = None) -> None:
        target = member or interaction.user
        assert interaction.guild_id is not None
        async with self.bot.services.uow() as uow:  # read only
            found = await reviews_for(uow, guild_id=interaction.guild_id, user_id=target.id,
                                      member_name=target.display_name)
        view = ReviewsView(interaction.user.id, found)
        await interaction.response.send_message(
            embed=reviews_embed(found, 0), ephemeral=True,
            **({"view": view} if found.pages > 1 else {}))

    # ------------------------------------------------------------ stats (issue 9)

    @coach.command(name="stats", description="Your coaching figures (admins: any coach's)")
    @app_commands.describe(period="Which period (default: the last 30 days)",
                           member="The coach (yourself when left out; admins only)")
    @app_commands.choices(period=[app_commands.Choice(name=label, value=key)
                                  for key, (label, _) in PERIODS.items()])
    async def stats(self, interaction: discord.Interaction, period: str = DEFAULT_PERIOD,
                    member: discord.Member | None = None) -> None:
        target = member or interaction.user
        assert interaction.guild_id is not None
        user = interaction.user
        is_admin = isinstance(user, discord.Member) and user.guild_permissions.manage_guild
        async with self.bot.services.uow() as uow:  # read only
            figures = await stats_for(
                uow, guild_id=interaction.guild_id, caller_id=user.id, is_admin=is_admin,
                coach_user_id=target.id, coach_name=target.display_name, period=period,
                now=self.bot.services.clock())
        png = await asyncio.to_thread(sessions_per_week_png, figures.per_week,
                                      title=f"{figures.coach_name}: {figures.period_label}")
        await interaction.response.send_message(
            embed=stats_embed(figures), ephemeral=True,
            file=discord.File(io.BytesIO(png), filename=CHART_NAME))


def payouts_text(link: PayoutsLink, *, was_linked: bool, fee_percent: int) -> str:
    """The payout status a coach reads: not linked (yet) / onboarding / ready."""
    if link.ready:
        fee = f", minus the server's {fee_percent}% fee" if fee_percent else ""
        return ("**Payouts: ready.** Paid sessions are paid into your Stripe account directly"
                f"{fee}. Review your payout details on Stripe with the button below.")
    held = ("Until then, money for your paid sessions stays with the server and the admins "
            "see what you are owed in `/coaching earnings`.")
    if not was_linked:
        return ("**Payouts: not linked yet.** I opened a Stripe account for you: finish "
                "setting it up on Stripe (the button below; the link works once and for a "
                f"few minutes, run `/coach payouts` again for a new one). {held}")
    return ("**Payouts: onboarding not finished.** Stripe still needs your details before "
            f"it can pay you: continue with the button below. {held}")


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Coach(bot))
