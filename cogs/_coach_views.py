"""The coach profile form, the coach card embed and helpers shared by `/coach` and
`/availability` (timezone autocomplete, who is calling)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.ui import OwnedView, ReportingModal
from scheduling.coach_profiles import (
    MAX_BIO,
    MAX_CREDENTIALS,
    MAX_DISPLAY_NAME,
    CoachCard,
    ProfileForm,
    timezone_suggestions,
)
from scheduling.errors import InvalidInput

SaveProfile = Callable[[discord.Interaction, ProfileForm], Awaitable[None]]
FORM_TIMEOUT = 30 * 60  # seconds a coach may spend writing their bio
CARD_COLOUR = discord.Colour.teal()


def who(interaction: discord.Interaction) -> dict[str, Any]:
    """The caller as `require_coach` wants it: server, member, their roles, their name."""
    user = interaction.user
    assert interaction.guild_id is not None  # the command groups are guild-only
    roles = [role.id for role in getattr(user, "roles", ())]
    return {"guild_id": interaction.guild_id, "user_id": user.id, "role_ids": roles,
            "display_name": user.display_name}


async def timezone_choices(interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
    """Timezone autocomplete: `Europe/Berlin (UTC+01:00, CET)` -> `Europe/Berlin`."""
    now = interaction.client.services.clock()  # type: ignore[attr-defined]
    return [app_commands.Choice(name=name, value=value)
            for name, value in timezone_suggestions(current, now)]


# ---------------------------------------------------------------- the profile form


class ProfileModal(ReportingModal):
    """Display name, bio, specialties, hourly rate and credentials, prefilled. A value the
    service refuses is reported with an "Edit again" button that reopens the form with what
    was typed, so a long bio is never lost to a typo in the rate."""

    def __init__(self, form: ProfileForm, *, currency: str, save: SaveProfile) -> None:
        super().__init__(title="Your coach profile", timeout=FORM_TIMEOUT)
        self.currency = currency
        self.save = save
        self.display_name: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
            label="Display name", custom_id="display_name", min_length=1,
            max_length=MAX_DISPLAY_NAME, default=form.display_name or None,
            placeholder="The name students see on your card")
        self.bio: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
            label="Bio", custom_id="bio", style=discord.TextStyle.paragraph, required=False,
            max_length=MAX_BIO, default=form.bio or None,
            placeholder="Who you are and how you coach")
        self.specialties: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
            label="Specialties (comma separated, up to 10)", custom_id="specialties",
            required=False, max_length=600, default=form.specialties or None,
            placeholder="Query letters, Developmental editing, Poetry")
        self.hourly_rate: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
            label=f"Hourly rate in {currency} (empty: not shown)", custom_id="hourly_rate",
            required=False, max_length=20, default=form.hourly_rate or None,
            placeholder="40 or 40.50")
        self.credentials: discord.ui.TextInput[ProfileModal] = discord.ui.TextInput(
            label="Credentials", custom_id="credentials", style=discord.TextStyle.paragraph,
            required=False, max_length=MAX_CREDENTIALS, default=form.credentials or None,
            placeholder="Degrees, certificates, publications")
        for item in (self.display_name, self.bio, self.specialties, self.hourly_rate,
                     self.credentials):
            self.add_item(item)

    def typed(self) -> ProfileForm:
        return ProfileForm(display_name=self.display_name.value, bio=self.bio.value,
                           specialties=self.specialties.value,
                           hourly_rate=self.hourly_rate.value,
                           credentials=self.credentials.value)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = self.typed()
        try:
            await self.save(interaction, form)
        except InvalidInput as error:
            if interaction.response.is_done():
                raise
            view = EditAgainView(interaction.user.id, form, currency=self.currency,
                                 save=self.save)
            await interaction.response.send_message(
                f"{error.user_message}\nNothing was saved. Press **Edit again** to fix it; "
                "what you typed is kept.", view=view, ephemeral=True)


class EditAgainView(OwnedView):
    def __init__(self, owner_id: int, form: ProfileForm, *, currency: str,
                 save: SaveProfile) -> None:
        super().__init__(owner_id, timeout=FORM_TIMEOUT)
        self.form = form
        self.currency = currency
        self.save = save

    @discord.ui.button(label="Edit again", style=discord.ButtonStyle.primary,
                       custom_id="coach-profile:edit-again")
    async def edit_again(self, interaction: discord.Interaction,
                         button: discord.ui.Button[EditAgainView]) -> None:
        await interaction.response.send_modal(
            ProfileModal(self.form, currency=self.currency, save=self.save))


# ---------------------------------------------------------------- the coach card


def _experience(card: CoachCard) -> str | None:
    parts = []
    if card.years_experience is not None:
        years = card.years_experience
        parts.append(f"{years} year{'' if years == 1 else 's'} of experience")
    if card.credentials:
        parts.append(card.credentials)
    return "\n".join(parts) or None


def coach_card_embed(card: CoachCard, *, fallback_avatar: str | None) -> discord.Embed:
    """The coach card: avatar, name, bio, specialties, rate, rating, sessions, timezone."""
    embed = discord.Embed(title=card.display_name, colour=CARD_COLOUR,
                          description=card.bio or "*No bio yet.*")
    avatar = card.avatar_url or fallback_avatar
    if avatar:
        embed.set_thumbnail(url=avatar)
    if card.specialties:
        embed.add_field(name="Specialties", value=", ".join(card.specialties), inline=False)
    if card.rate is not None:
        embed.add_field(name="Rate", value=card.rate)
    embed.add_field(name="Rating", value=card.rating)
    embed.add_field(name="Sessions completed", value=str(card.sessions_completed))
    experience = _experience(card)
    if experience:
        embed.add_field(name="Experience", value=experience, inline=False)
    embed.add_field(name="Timezone", value=card.timezone, inline=False)
    return embed
