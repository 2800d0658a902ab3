"""The Bot subclass: intents, cog loading and the command tree with its error handler."""

from __future__ import annotations

import logging
import pkgutil

import discord
from discord.ext import commands

import cogs
from bot.command_sync import sync_if_changed
from bot.errors import CoachTree
from bot.payments import BotPayments
from bot.services import Services

log = logging.getLogger(__name__)


def required_intents() -> discord.Intents:
    """Guilds for channels and roles; members (privileged) for Member.pending and role changes."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    return intents


def cog_extensions() -> list[str]:
    """Every module in `cogs/` is an extension, except private helpers named `_*`."""
    return sorted(
        f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.name.startswith("_")
    )


# Coachbot creates voice channels but never joins them: voice libraries are not needed, so
# discord.py's start-up warnings about them would only mislead the person running the bot.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class CoachBot(commands.Bot):
    def __init__(self, services: Services, *, sync_commands: bool = False) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=required_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=CoachTree,
        )
        self.services = services
        self._sync_commands = sync_commands
        # Payments: the Stripe gateway (none without Stripe), webhook follow-ups run in the
        # background, the paid /book entry point (bot/payments.py).
        self.payments = BotPayments.from_settings(self)

    async def load_cogs(self) -> None:
        for name in cog_extensions():
            await self.load_extension(name)
        log.info("loaded %d cog extensions", len(self.extensions))

    async def setup_hook(self) -> None:
        await self.load_cogs()
        if self._sync_commands:
            settings = self.services.settings.bot
            await sync_if_changed(self.tree, settings.data_dir / "command-tree.sha256",
                                  settings.dev_guild_ids)

    async def close(self) -> None:
        await super().close()
        await self.payments.aclose()  # background payment work, then Stripe's HTTP session

    async def on_ready(self) -> None:
        log.info("ready as %s in %d servers", self.user, len(self.guilds))
