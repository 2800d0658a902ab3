"""Settings: `config.toml` for everything that is not secret, environment variables for secrets.

Every problem is reported as one `SettingsError` line naming the key and what is wrong.
Secret values are wrapped in `Secret`, whose repr never shows them.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.urls import DEFAULT_DATABASE_URL, normalise_url, redact_url

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(Exception):
    """A configuration problem, phrased as one line for the person running the bot."""


class Secret:
    """A secret string that never appears in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class BotSettings:
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    sync_commands_on_start: bool = True
    dev_guild_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://localhost:8080"


@dataclass(frozen=True)
class BookingSettings:
    hold_minutes: int = 30
    reminder_offsets_minutes: tuple[int, ...] = (1440, 60)


@dataclass(frozen=True)
class MeetingSettings:
    jitsi_base_url: str = "https://meet.jit.si"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    bot: BotSettings = field(default_factory=BotSettings)
    web: WebSettings = field(default_factory=WebSettings)
    booking: BookingSettings = field(default_factory=BookingSettings)
    meetings: MeetingSettings = field(default_factory=MeetingSettings)
    discord_token: Secret | None = None
    stripe_secret_key: Secret | None = None
    stripe_webhook_secret: Secret | None = None

    @property
    def stripe_configured(self) -> bool:
        return bool(self.stripe_secret_key) and bool(self.stripe_webhook_secret)


_SECTIONS: dict[str, set[str]] = {
    "bot": {"data_dir", "log_level", "sync_commands_on_start", "dev_guild_ids"},
    "database": {"url"},
    "web": {"host", "port", "public_url"},
    "booking": {"hold_minutes", "reminder_offsets_minutes"},
    "meetings": {"jitsi_base_url"},
}


def ensure_config_file(path: Path, example: Path) -> bool:
    """Copy the example to `path` on first run. Returns True when a copy was made."""
    if path.exists() or not example.exists():
        return False
    shutil.copyfile(example, path)
    return True


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (if present) and the environment; raise SettingsError on any problem."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if path is not None and path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    return _build(raw, env, source=str(path) if path else "settings")


def _build(raw: dict[str, Any], env: Mapping[str, str], *, source: str) -> Settings:
    for section, values in raw.items():
        if section not in _SECTIONS:
            raise SettingsError(f"{source}: unknown section [{section}]")
        if not isinstance(values, dict):
            raise SettingsError(f"{source}: [{section}] must be a table")
        for key in values:
            if key not in _SECTIONS[section]:
                raise SettingsError(f"{source}: unknown key {section}.{key}")

    def get(section: str, key: str, default: Any) -> Any:
        return raw.get(section, {}).get(key, default)

    def err(key: str, what: str, value: Any) -> SettingsError:
        return SettingsError(f"{source}: {key} {what} (got {value!r})")

    log_level = get("bot", "log_level", "INFO")
    if not isinstance(log_level, str) or log_level.upper() not in LOG_LEVELS:
        raise err("bot.log_level", f"must be one of {', '.join(LOG_LEVELS)}", log_level)
    sync = get("bot", "sync_commands_on_start", True)
    if not isinstance(sync, bool):
        raise err("bot.sync_commands_on_start", "must be true or false", sync)
    guild_ids = get("bot", "dev_guild_ids", [])
    if not isinstance(guild_ids, list) or not all(_is_int(g) and g > 0 for g in guild_ids):
        raise err("bot.dev_guild_ids", "must be a list of server ids (numbers)", guild_ids)
    data_dir = get("bot", "data_dir", "data")
    if not isinstance(data_dir, str) or not data_dir:
        raise err("bot.data_dir", "must be a folder path", data_dir)

    db_url = env.get("DATABASE_URL") or get("database", "url", DEFAULT_DATABASE_URL)
    db_key = "DATABASE_URL" if env.get("DATABASE_URL") else "database.url"
    if not isinstance(db_url, str):
        raise err(db_key, "must be a database URL", db_url)
    try:
        db_url = normalise_url(db_url).render_as_string(hide_password=False)
    except Exception:
        raise SettingsError(
            f"{source}: {db_key} must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL "
            f"(got {_shown_url(db_url)!r})"
        ) from None

    host = get("web", "host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise err("web.host", "must be a host name or address", host)
    port = get("web", "port", 8080)
    if not _is_int(port) or not 1 <= port <= 65535:
        raise err("web.port", "must be a whole number from 1 to 65535", port)
    public_url = get("web", "public_url", "http://localhost:8080")
    if not _is_http_url(public_url):
        raise err("web.public_url", "must be an http:// or https:// address", public_url)

    hold = get("booking", "hold_minutes", 30)
    if not _is_int(hold) or not 30 <= hold <= 1440:
        raise err("booking.hold_minutes", "must be 30 to 1440 (Stripe needs at least 30)", hold)
    offsets = get("booking", "reminder_offsets_minutes", [1440, 60])
    if not isinstance(offsets, list) or not all(_is_int(o) and 0 < o <= 43200 for o in offsets):
        raise err("booking.reminder_offsets_minutes", "must be a list of minutes (1 to 43200)",
                  offsets)

    jitsi = get("meetings", "jitsi_base_url", "https://meet.jit.si")
    if not _is_http_url(jitsi):
        raise err("meetings.jitsi_base_url", "must be an http:// or https:// address", jitsi)

    return Settings(
        database_url=db_url,
        bot=BotSettings(
            data_dir=Path(data_dir),
            log_level=log_level.upper(),
            sync_commands_on_start=sync,
            dev_guild_ids=tuple(guild_ids),
        ),
        web=WebSettings(host=host, port=port, public_url=public_url.rstrip("/")),
        booking=BookingSettings(hold_minutes=hold,
                                reminder_offsets_minutes=tuple(sorted(set(offsets), reverse=True))),
        meetings=MeetingSettings(jitsi_base_url=jitsi.rstrip("/")),
        discord_token=_secret(env, "DISCORD_TOKEN"),
        stripe_secret_key=_stripe_key(env),
        stripe_webhook_secret=_secret(env, "STRIPE_WEBHOOK_SECRET"),
    )


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = env.get(name, "").strip()
    return Secret(value) if value else None


def _stripe_key(env: Mapping[str, str]) -> Secret | None:
    key = _secret(env, "STRIPE_SECRET_KEY")
    if key is not None and not key.reveal().startswith(("sk_", "rk_")):
        raise SettingsError(
            "STRIPE_SECRET_KEY does not look like a Stripe secret key "
            "(it should start with sk_live_, sk_test_ or rk_)"
        )
    return key


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _shown_url(url: str) -> str:
    try:
        return redact_url(url)
    except Exception:
        return url.split(":", 1)[0] + ":..."
