"""Database URLs: the default, backend detection, driver normalisation and redaction.

Secrets are never logged: render URLs for humans with :func:`redact_url` only.
"""

from __future__ import annotations

import shlex
from typing import Literal

from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/coachbot.db"

Backend = Literal["sqlite", "postgresql"]

_ASYNC_DRIVERS: dict[str, str] = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "passfile"})


def normalise_url(url: str | URL) -> URL:
    """Parse ``url`` and select the async driver Coachbot uses for its backend.

    ``sqlite://``, ``postgresql://`` and ``postgres://`` are accepted and mapped to
    ``sqlite+aiosqlite`` and ``postgresql+asyncpg``. Other backends or drivers are refused.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    name, _, driver = parsed.drivername.partition("+")
    backend = "postgresql" if name == "postgres" else name
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(
            f"unsupported database backend {name!r}: use sqlite+aiosqlite:// "
            "or postgresql+asyncpg://"
        )
    expected = _ASYNC_DRIVERS[backend]
    if driver and driver != expected:
        raise ValueError(f"unsupported database driver {driver!r}: use {backend}+{expected}://")
    return parsed.set(drivername=f"{backend}+{expected}")


def backend_name(url: str | URL) -> Backend:
    """``"sqlite"`` or ``"postgresql"`` for a database URL (``ValueError`` for anything else)."""
    backend = normalise_url(url).get_backend_name()
    return "sqlite" if backend == "sqlite" else "postgresql"


def redact_url(url: str | URL) -> str:
    """Render ``url`` for logs and messages with its password (and secret query values) hidden."""
    parsed = make_url(url) if isinstance(url, str) else url
    query = {
        key: ("***" if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in parsed.query.items()
    }
    return parsed.set(query=query).render_as_string(hide_password=True)


def libpq_server_settings(options: str) -> dict[str, str]:
    """Parse a libpq ``options`` value (``-c name=value`` entries) into server settings.

    This lets a PostgreSQL URL carry settings the standard way, e.g.
    ``postgresql+asyncpg://host/db?options=-csearch_path%3Dcoachbot`` selects a schema.
    """
    settings: dict[str, str] = {}
    words = shlex.split(options)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-c" and index + 1 < len(words):
            assignment = words[index + 1]
            index += 2
        elif (word.startswith("-c") and len(word) > 2) or (word.startswith("--") and "=" in word):
            assignment = word[2:]  # "-cname=value" or "--name=value"
            index += 1
        else:
            raise ValueError(f"unsupported entry in the URL's options parameter: {word!r}")
        name, separator, value = assignment.partition("=")
        if not separator or not name:
            raise ValueError(f"expected name=value in the URL's options parameter: {assignment!r}")
        settings[name.replace("-", "_")] = value
    return settings
