"""Exceptions the harness raises, and Discord-shaped HTTP errors for the fake backends."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import discord


class HarnessError(AssertionError):
    """Base class: every harness failure is an assertion failure of the test that hit it."""


class UnhandledInteractionError(HarnessError):
    """discord.py (or the bot) logged an ERROR and swallowed it: the test must fail."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        self.records = records
        parts = []
        for record in records:
            text = f"[{record.name}] {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            parts.append(text)
        super().__init__(
            f"{len(records)} error(s) logged and swallowed during the test "
            "(use driver.expect_error_log() if this is intended):\n\n" + "\n\n".join(parts)
        )

    @property
    def exception(self) -> BaseException | None:
        """The first logged exception, if any record carried one."""
        for record in self.records:
            if record.exc_info and record.exc_info[1] is not None:
                return record.exc_info[1]
        return None


class NoResponseError(HarnessError):
    """The bot never acknowledged an interaction: Discord shows "This interaction failed"."""


class InteractionTimeoutError(HarnessError):
    """Tasks started by an interaction were still running when the driver's timeout expired."""


class ComponentNotFoundError(HarnessError):
    """The message has no enabled component with that custom_id, so a user could not use it."""


class CommandUnavailableError(HarnessError):
    """Discord would not offer this command to this user here (unknown, wrong context, perms)."""


class InvalidInteractionInput(HarnessError):
    """A user could not send this input: Discord's client would refuse it."""


class FakeResponse:
    """The `response` object `discord.HTTPException` reads `status` and `reason` from."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}


def http_error(status: int, code: int, message: str,
               errors: dict[str, Any] | None = None) -> discord.HTTPException:
    """The exception discord.py raises for Discord's JSON error body `{code, message, errors}`."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    response = FakeResponse(status, _REASONS.get(status, "Error"))
    if status == 403:
        return discord.Forbidden(response, body)  # type: ignore[arg-type]
    if status == 404:
        return discord.NotFound(response, body)  # type: ignore[arg-type]
    return discord.HTTPException(response, body)  # type: ignore[arg-type]


def missing_permissions() -> discord.HTTPException:
    return http_error(403, 50013, "Missing Permissions")
