"""Syncing slash commands with Discord only when they changed (syncs are rate limited)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import discord
from discord import app_commands

log = logging.getLogger(__name__)


def tree_fingerprint(tree: app_commands.CommandTree) -> str:
    payload = [cmd.to_dict(tree) for cmd in tree.get_commands()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync_commands(tree: app_commands.CommandTree, guild_ids: Sequence[int]) -> int:
    """Sync globally, or to each given server (instant, for development). Returns the count."""
    if not guild_ids:
        return len(await tree.sync())
    count = 0
    for guild_id in guild_ids:
        guild = discord.Object(id=guild_id)
        tree.copy_global_to(guild=guild)
        count = len(await tree.sync(guild=guild))
    return count


async def sync_if_changed(
    tree: app_commands.CommandTree, state_file: Path, guild_ids: Sequence[int]
) -> bool:
    fingerprint = tree_fingerprint(tree) + ":" + ",".join(map(str, guild_ids))
    if _read(state_file) == fingerprint:
        log.info("slash commands unchanged since the last sync")
        return False
    count = await sync_commands(tree, guild_ids)
    _write(state_file, fingerprint)
    log.info("synced %d slash commands", count)
    return True


def _read(path: Path) -> str | None:
    return path.read_text().strip() if path.exists() else None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
