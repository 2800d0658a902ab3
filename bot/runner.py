"""Starting the bot process: migrate, connect, run; failures end as one clear line."""

from __future__ import annotations

import logging

import aiohttp
import discord

from bot.client import CoachBot
from bot.services import Services
from bot.settings import Settings
from bot.web import WebServerError, web_server
from storage.engine import create_engine
from storage.migrate import migrate
from storage.urls import redact_url

log = logging.getLogger(__name__)

TOKEN_GUIDANCE = """\
DISCORD_TOKEN is not set, so the bot cannot log in to Discord.

How to get a token and invite the bot:
  1. Open https://discord.com/developers/applications, create an application (or open yours).
  2. Bot > Reset Token, copy the token, then run:  export DISCORD_TOKEN='paste-it-here'
  3. Bot > Privileged Gateway Intents: turn on SERVER MEMBERS INTENT
     (needed to see membership screening and to manage members' roles).
  4. OAuth2 > URL Generator: scopes "bot" and "applications.commands"; bot permissions
     Manage Roles, Manage Channels, Send Messages, Embed Links, Attach Files.
     Open the generated URL to add the bot to your server.
  5. Run `make run` again.
"""


class StartupError(Exception):
    """A start-up failure explained in one line; the process exits non-zero."""


async def migrate_database(settings: Settings) -> None:
    try:
        await migrate(settings.database_url)
    except (OSError, ConnectionError) as exc:
        raise StartupError(
            f"cannot open the database {redact_url(settings.database_url)}: {exc}"
        ) from None
    log.info("database %s is up to date", redact_url(settings.database_url))


async def run_bot(settings: Settings) -> None:
    """Run until stopped. Raises StartupError for a login or connection problem."""
    assert settings.discord_token is not None
    await migrate_database(settings)
    engine = create_engine(settings.database_url)
    bot = CoachBot(Services(settings, engine),
                   sync_commands=settings.bot.sync_commands_on_start)
    try:
        async with bot:
            await bot.login(settings.discord_token.reveal())
            # Stripe webhooks and /healthz (bot/web.py), served while connected to Discord.
            async with web_server(bot):
                await bot.connect()
    except WebServerError as exc:
        raise StartupError(str(exc)) from None
    except discord.LoginFailure:
        raise StartupError(
            "Discord rejected DISCORD_TOKEN (invalid token). Reset it under Bot > Reset Token "
            "in the developer portal and export the new value."
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise StartupError(
            "Discord refused the Server Members intent. Enable SERVER MEMBERS INTENT under "
            "Bot > Privileged Gateway Intents in the developer portal."
        ) from None
    except (aiohttp.ClientError, discord.GatewayNotFound, OSError) as exc:
        raise StartupError(
            f"cannot reach Discord ({type(exc).__name__}: {exc}). Check the network and retry."
        ) from None
    finally:
        await engine.dispose()


async def sync_commands_once(settings: Settings, guild_id: int | None) -> int:
    """Log in over HTTP only (no gateway), sync the command tree, log out."""
    from bot.command_sync import sync_commands

    assert settings.discord_token is not None
    engine = create_engine(settings.database_url)
    bot = CoachBot(Services(settings, engine))
    try:
        async with bot:
            await bot.login(settings.discord_token.reveal())
            return await sync_commands(bot.tree, [guild_id] if guild_id else [])
    except discord.LoginFailure:
        raise StartupError("Discord rejected DISCORD_TOKEN (invalid token).") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise StartupError(f"cannot reach Discord ({type(exc).__name__}: {exc}).") from None
    finally:
        await engine.dispose()
