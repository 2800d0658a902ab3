"""Start-up failures of the real runner against a local stand-in for Discord's REST API."""

from collections.abc import AsyncIterator

import discord
import pytest
from aiohttp import web

from bot.runner import StartupError, run_bot
from bot.settings import Secret, Settings


@pytest.fixture
async def discord_api(monkeypatch) -> AsyncIterator[list[str]]:
    """A local server answering like Discord does for an invalid token."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    yield seen
    await runner.cleanup()


def settings_for(tmp_path, token: str = "bad-token") -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
                    discord_token=Secret(token))


async def test_invalid_token_is_one_clear_startup_error(tmp_path, discord_api):
    with pytest.raises(StartupError, match="invalid token") as info:
        await run_bot(settings_for(tmp_path))
    assert "GET /api/v10/users/@me" in discord_api
    assert "bad-token" not in str(info.value)
    assert (tmp_path / "bot.db").exists(), "the database is migrated before logging in"


async def test_unreachable_discord_is_one_clear_startup_error(tmp_path, monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")
    with pytest.raises(StartupError, match="cannot reach Discord"):
        await run_bot(settings_for(tmp_path))
