"""Message JSON shared by the dpytest REST fakes and the webhook recorder.

Flags, the fake CDN for attachments (dpytest's `get_from_cdn` reads `file://` URLs, so
`Attachment.read()` works) and how an edit body changes a stored message.
"""

from __future__ import annotations

import datetime
import mimetypes
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord.ext.test import factories

JsonDict = dict[str, Any]

SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
COMPONENTS_V2 = 1 << 15

_cdn: Path | None = None


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def store_attachment(filename: str, data: bytes) -> str:
    """Write `data` to the fake CDN and return its URL."""
    global _cdn
    if _cdn is None or not _cdn.exists():
        _cdn = Path(tempfile.mkdtemp(prefix="coachbot-dpytest-"))
    path = _cdn / f"{factories.make_id()}-{Path(filename).name}"
    path.write_bytes(data)
    return path.absolute().as_uri()


def clear_cdn() -> None:
    global _cdn
    if _cdn is not None:
        shutil.rmtree(_cdn, ignore_errors=True)
        _cdn = None


def uploaded(files: Sequence[tuple[str, bytes]], body: JsonDict) -> list[JsonDict]:
    """Attachment JSON for files uploaded with a request (descriptions from `body`)."""
    described = {str(a.get("id")): a for a in body.get("attachments", [])}
    out = []
    for index, (filename, data) in enumerate(files):
        url = store_attachment(filename, data)
        out.append({
            "id": factories.make_id(), "filename": filename, "size": len(data),
            "url": url, "proxy_url": url,
            "content_type": mimetypes.guess_type(filename)[0],
            "description": described.get(str(index), {}).get("description"),
        })
    return out


def read_files(files: Sequence[discord.File] | None) -> list[tuple[str, bytes]]:
    """(filename, bytes) of files discord.py is uploading; leaves them rewound."""
    out = []
    for file in files or []:
        file.reset()
        out.append((file.filename, file.fp.read()))
        file.reset()
    return out


def edited(current: JsonDict, body: JsonDict, files: Sequence[tuple[str, bytes]]) -> JsonDict:
    """The message after an edit (PATCH) body: omitted fields stay, `null` clears."""
    new = dict(current)
    for key, empty in (("content", ""), ("embeds", []), ("components", [])):
        if key in body:
            new[key] = body[key] if body[key] is not None else empty
    kept_flags = int(current.get("flags") or 0) & (EPHEMERAL | COMPONENTS_V2)  # LOADING ends
    new["flags"] = kept_flags | (int(body.get("flags") or 0) & (SUPPRESS_EMBEDS | COMPONENTS_V2))
    if "attachments" in body or files:
        keep = {str(a.get("id")) for a in body.get("attachments", [])}
        new["attachments"] = [a for a in current.get("attachments", [])
                              if str(a["id"]) in keep] + uploaded(files, body)
    new["edited_timestamp"] = now()
    return new
