"""`/coach ...`: a coach edits their profile; anyone looks at a coach's card.

`/coach profile [timezone] [avatar_url] [years]` opens a form (display name, bio, specialties,
hourly rate, credentials) prefilled with the current profile. Discord modals hold at most five
text inputs, so years of experience is a command option like the timezone and the avatar URL;
options left out keep their current value (`avatar_url: discord` goes back to the Discord
avatar, which is also the default).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from cogs._coach_views import ProfileModal, coach_card_embed, timezone_choices, who
from scheduling import coach_profiles
from scheduling.coach_profiles import MAX_YEARS, ProfileForm, ProfileOptions


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


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Coach(bot))
