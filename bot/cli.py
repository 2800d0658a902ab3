"""`coachbot` command line: run, migrate, check-config, sync-commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, ensure_config_file, load_settings

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coachbot", description="Coaching sessions in Discord.")
    parser.add_argument("--config", type=Path, default=Path("config.toml"),
                        help="settings file (default: config.toml, copied from "
                             "config.example.toml on first run)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate the database and start the bot")
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("check-config", help="validate settings without connecting anywhere")
    sync = sub.add_parser("sync-commands", help="publish slash commands to Discord")
    sync.add_argument("--guild", type=int, default=None,
                      help="server id: sync there only (instant), instead of globally")
    return parser


def _fail(message: str, status: int) -> int:
    print(f"coachbot: {message}", file=sys.stderr)
    return status


def _secrets(settings: Settings) -> list[str]:
    values = (settings.discord_token, settings.stripe_secret_key, settings.stripe_webhook_secret)
    return [v.reveal() for v in values if v]


def main(argv: Sequence[str] | None = None) -> int:
    from bot.runner import TOKEN_GUIDANCE, StartupError

    args = _parser().parse_args(argv)
    if args.command == "run":
        ensure_config_file(args.config, args.config.parent / "config.example.toml")
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        return _fail(str(exc), EXIT_CONFIG)

    if args.command == "check-config":
        print(describe(settings, args.config))
        return 0
    configure_logging(settings.bot.log_level, _secrets(settings))
    if args.command in ("run", "sync-commands") and settings.discord_token is None:
        print(TOKEN_GUIDANCE, file=sys.stderr, end="")
        return EXIT_CONFIG
    try:
        if args.command == "migrate":
            from bot.runner import migrate_database

            asyncio.run(migrate_database(settings))
        elif args.command == "sync-commands":
            from bot.runner import sync_commands_once

            count = asyncio.run(sync_commands_once(settings, args.guild))
            print(f"synced {count} commands" + (f" to server {args.guild}" if args.guild else ""))
        else:
            from bot.runner import run_bot

            asyncio.run(run_bot(settings))
    except StartupError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 0
    return 0


def describe(settings: Settings, path: Path) -> str:
    from storage.urls import backend_name, redact_url

    source = str(path) if path.exists() else "built-in defaults (no config file)"
    lines = [
        f"settings OK ({source})",
        f"  database: {backend_name(settings.database_url)} {redact_url(settings.database_url)}",
        f"  web server: {settings.web.host}:{settings.web.port} ({settings.web.public_url})",
        f"  DISCORD_TOKEN: {'set' if settings.discord_token else 'missing'}",
        f"  Stripe: {'configured' if settings.stripe_configured else 'not configured'}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
