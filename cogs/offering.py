"""`/offering ...`: a coach's offerings. `create` runs the four-step wizard (see
`cogs/_offering_wizard.py`); `edit` reopens it (and resumes drafts); `publish`, `unpublish`,
`list` and `delete` manage the rest of an offering's life.

`/offering create` while drafts exist offers to continue the latest one or start a new one;
`/offering edit` resumes any draft at its saved step. Uploaded thumbnails are stored in the
database because Discord's attachment links expire.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import CoachBot
from cogs._offering_wizard import (
    DYNAMIC_ITEMS,
    LookModal,
    current_coach,
    delete_prompt,
    published_text,
    read_image,
    render_card,
    render_step,
    resume_prompt,
    send_new,
)
from cogs._package_views import added_message, packages_suffix, removed_message
from scheduling import addons as addon_service
from scheduling import offerings as service
from scheduling import packages as package_service
from scheduling.errors import DomainError
from scheduling.offering_fields import check_image_attachment

THUMBNAIL_HELP = "A picture for the offering card (PNG, JPEG, GIF or WebP, at most 1 MB)"
OFFERING_HELP = "One of your offerings (pick from the list)"


class Offerings(commands.Cog):
    offering = app_commands.Group(name="offering", description="Your coaching offerings",
                                  guild_only=True)

    def __init__(self, bot: CoachBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    # ------------------------------------------------------------ autocomplete

    async def _choices(self, interaction: discord.Interaction, current: str,
                       statuses: tuple[str, ...] | None = None
                       ) -> list[app_commands.Choice[str]]:
        try:
            async with self.bot.services.uow() as uow:  # read only: never committed
                coach = await current_coach(uow, interaction)
                pairs = await service.autocomplete_choices(uow, coach, current,
                                                           statuses=statuses)
        except DomainError:
            return []
        return [app_commands.Choice(name=name, value=value) for name, value in pairs]

    async def any_offering(self, interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current)

    async def publishable(self, interaction: discord.Interaction, current: str
                          ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, ("draft", "unpublished"))

    async def published(self, interaction: discord.Interaction, current: str
                        ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, ("published",))

    # ------------------------------------------------------------ commands

    @offering.command(name="create", description="Create an offering in four guided steps")
    @app_commands.describe(thumbnail=THUMBNAIL_HELP)
    async def create(self, interaction: discord.Interaction,
                     thumbnail: discord.Attachment | None = None) -> None:
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            drafts = await service.drafts_of(uow, coach)
            await uow.commit()  # the coach profile is created on first use
        if thumbnail is not None:
            check_image_attachment(thumbnail.filename, thumbnail.content_type, thumbnail.size)
        if not drafts:
            await interaction.response.send_modal(LookModal(0, attachment=thumbnail))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        pending = await read_image(thumbnail) if thumbnail is not None else None
        await send_new(interaction, resume_prompt(drafts, pending))

    @offering.command(name="edit", description="Change one of your offerings or resume a draft")
    @app_commands.describe(offering=OFFERING_HELP, thumbnail=THUMBNAIL_HELP)
    @app_commands.autocomplete(offering=any_offering)
    async def edit(self, interaction: discord.Interaction, offering: str,
                   thumbnail: discord.Attachment | None = None) -> None:
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            target = await service.find_owned(uow, coach, offering)
            offering_id = target.id
            step = max(1, target.draft_step) if target.status == "draft" else 1
        image = None
        if thumbnail is not None:
            check_image_attachment(thumbnail.filename, thumbnail.content_type, thumbnail.size)
            await interaction.response.defer(ephemeral=True, thinking=True)
            image = await read_image(thumbnail)
            step = 1
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            target = await service.load_owned(uow, coach, offering_id)
            if image is not None:
                await service.set_uploaded_thumbnail(uow, target, image)
            rendered = await render_step(uow, coach, target, step, None)
            await uow.commit()
        await send_new(interaction, rendered)

    @offering.command(name="publish", description="Make an offering bookable")
    @app_commands.describe(offering=OFFERING_HELP)
    @app_commands.autocomplete(offering=publishable)
    async def publish(self, interaction: discord.Interaction, offering: str) -> None:
        stripe = self.bot.services.settings.stripe_configured
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            target = await service.find_owned(uow, coach, offering)
            result = await service.publish(uow, coach, target, stripe_configured=stripe)
            rendered = await render_card(uow, coach, target, published_text(result), None)
            await uow.commit()
        await send_new(interaction, rendered)

    @offering.command(name="unpublish",
                      description="Hide an offering from new bookings (booked sessions stay)")
    @app_commands.describe(offering=OFFERING_HELP)
    @app_commands.autocomplete(offering=published)
    async def unpublish(self, interaction: discord.Interaction, offering: str) -> None:
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            target = await service.find_owned(uow, coach, offering)
            await service.unpublish(uow, target)
            title = target.title
            await uow.commit()
        await interaction.response.send_message(
            f"**{title}** is hidden from new bookings. Sessions already booked are not "
            "affected. Publish it again with `/offering publish`.", ephemeral=True)

    @offering.command(name="list", description="Your offerings and their status")
    async def list_offerings(self, interaction: discord.Interaction) -> None:
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            rows = await service.summaries(uow, coach)
            packages = await package_service.coach_packages(uow, coach)
            await uow.commit()
        if not rows:
            await interaction.response.send_message(
                "You have no offerings yet. Create one with `/offering create`.", ephemeral=True)
            return
        embed = discord.Embed(title="Your offerings", colour=discord.Colour.blurple())
        for row in rows[:25]:
            value = row.line + packages_suffix(packages.get(row.offering_id, []))
            embed.add_field(name=row.title[:256], value=value[:1024], inline=False)
        if len(rows) > 25:
            embed.set_footer(text=f"and {len(rows) - 25} more")
        await interaction.response.send_message(
            "Change one with `/offering edit`; drafts continue where you left them.",
            embed=embed, ephemeral=True)

    @offering.command(name="delete", description="Delete an offering with no sessions ahead")
    @app_commands.describe(offering=OFFERING_HELP)
    @app_commands.autocomplete(offering=any_offering)
    async def delete(self, interaction: discord.Interaction, offering: str) -> None:
        now = self.bot.services.clock()
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            target = await service.find_owned(uow, coach, offering)
            await service.check_deletable(uow, target, now)
            offering_id, title = target.id, target.title
        await send_new(interaction, delete_prompt(offering_id, title))

    # ------------------------------------------------------------ add-ons

    # `/offering addon add|remove|list`: priced extras students pick when booking a paid
    # offering (scheduling/addons.py); each is a line item of the Checkout Session.
    addon = app_commands.Group(name="addon", description="Extras students can buy with a session",
                               parent=offering)

    async def _owned(self, uow: object, interaction: discord.Interaction, offering: str
                     ) -> service.OfferingRecord:
        coach = await current_coach(uow, interaction)  # type: ignore[arg-type]
        return await service.find_owned(uow, coach, offering)  # type: ignore[arg-type]

    async def addon_names(self, interaction: discord.Interaction, current: str
                          ) -> list[app_commands.Choice[str]]:
        typed = getattr(interaction.namespace, "offering", None)
        if not typed:
            return []
        try:
            async with self.bot.services.uow() as uow:  # read only
                target = await self._owned(uow, interaction, typed)
                lines = await addon_service.list_addons(uow, target)
        except DomainError:
            return []
        return [app_commands.Choice(name=line.label[:100], value=line.name)
                for line in lines if current.casefold() in line.name.casefold()][:25]

    @addon.command(name="add", description="Offer a priced extra with a paid offering")
    @app_commands.describe(offering=OFFERING_HELP, name="What the student gets, e.g. "
                           "Session recording", price="Its price, e.g. 9 or 9.50",
                           extra_minutes="Minutes it adds to the session (1-on-1 only), e.g. 30")
    @app_commands.autocomplete(offering=any_offering)
    async def add(self, interaction: discord.Interaction, offering: str,
                  name: app_commands.Range[str, 1, 100], price: str,
                  extra_minutes: app_commands.Range[int, 0, 240] = 0) -> None:
        async with self.bot.services.uow() as uow:
            target = await self._owned(uow, interaction, offering)
            line = await addon_service.add_addon(uow, target, name=name, price=price,
                                                 extra_minutes=extra_minutes)
            title = target.title
            await uow.commit()
        await interaction.response.send_message(
            f"Added **{line.name}** for {line.price} to **{title}**. Students booking it can "
            "pick it in the summary before paying.", ephemeral=True)

    @addon.command(name="remove", description="Stop offering an add-on")
    @app_commands.describe(offering=OFFERING_HELP, name="The add-on to remove")
    @app_commands.autocomplete(offering=any_offering, name=addon_names)
    async def remove(self, interaction: discord.Interaction, offering: str, name: str) -> None:
        async with self.bot.services.uow() as uow:
            target = await self._owned(uow, interaction, offering)
            line = await addon_service.remove_addon(uow, target, name)
            title = target.title
            await uow.commit()
        await interaction.response.send_message(
            f"Removed **{line.name}** from **{title}**. Sessions already booked with it keep "
            "it.", ephemeral=True)

    @addon.command(name="list", description="The add-ons of one of your offerings")
    @app_commands.describe(offering=OFFERING_HELP)
    @app_commands.autocomplete(offering=any_offering)
    async def list_addons(self, interaction: discord.Interaction, offering: str) -> None:
        async with self.bot.services.uow() as uow:
            target = await self._owned(uow, interaction, offering)
            lines = await addon_service.list_addons(uow, target)
            title = target.title
        if not lines:
            text = (f"**{title}** has no add-ons. Add one with `/offering addon add`.")
        else:
            text = f"Add-ons of **{title}**:\n" + "\n".join(
                f"- {line.name}: {line.price}" for line in lines)
        await interaction.response.send_message(text, ephemeral=True)

    # ------------------------------------------------------------ packages

    # `/offering package add|remove`: N sessions of an offering sold at once through Checkout
    # (scheduling/packages.py); students buy them with `/packages buy`.
    package = app_commands.Group(name="package", description="Sell several sessions at once",
                                 parent=offering)

    async def own_packages(self, interaction: discord.Interaction, current: str
                           ) -> list[app_commands.Choice[str]]:
        try:
            async with self.bot.services.uow() as uow:  # read only
                coach = await current_coach(uow, interaction)
                pairs = await package_service.coach_choices(uow, coach, current)
        except DomainError:
            return []
        return [app_commands.Choice(name=name, value=value) for name, value in pairs]

    @package.command(name="add", description="Sell several sessions of an offering at once")
    @app_commands.describe(offering=OFFERING_HELP, sessions="How many sessions (2-50)",
                           price="The price of the whole package, e.g. 120 or 120.50",
                           valid_days="Days the credits stay usable after the purchase (1-730)")
    @app_commands.autocomplete(offering=any_offering)
    async def add_package(self, interaction: discord.Interaction, offering: str,
                          sessions: app_commands.Range[int, 2, 50],
                          price: app_commands.Range[str, 1, 30],
                          valid_days: app_commands.Range[int, 1, 730]) -> None:
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            target = await service.find_owned(uow, coach, offering)
            line = await package_service.add_package(uow, target, sessions=sessions,
                                                     price=price, valid_days=valid_days,
                                                     coach_name=coach.display_name)
            await uow.commit()
        await interaction.response.send_message(added_message(line), ephemeral=True)

    @package.command(name="remove", description="Stop selling a package (buyers keep credits)")
    @app_commands.describe(package="One of your packages (pick from the list)")
    @app_commands.autocomplete(package=own_packages)
    async def remove_package(self, interaction: discord.Interaction,
                             package: app_commands.Range[str, 1, 100]) -> None:
        async with self.bot.services.uow() as uow:
            coach = await current_coach(uow, interaction)
            line = await package_service.remove_package(uow, coach, package)
            await uow.commit()
        await interaction.response.send_message(removed_message(line), ephemeral=True)


async def setup(bot: CoachBot) -> None:
    await bot.add_cog(Offerings(bot))
