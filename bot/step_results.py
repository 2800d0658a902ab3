"""What a provisioning step hands back to the orchestrator (`bot/provisioning.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import discord

from scheduling.provisioning import Problem, StepProblem, problem


@dataclass(frozen=True)
class StepDone:
    """A step that succeeded: the id of what it made, a note kept on the step, the booking's
    location columns it sets, a role grant to record, and a note an admin should read."""

    external_id: int | None = None
    note: str | None = None
    location: Mapping[str, Any] = field(default_factory=dict)
    grant: Mapping[str, Any] | None = None
    admin_note: str | None = None


class StepFailed(Exception):
    """A step that could not be done now; `problem` names the fix. `reopen` lists done steps
    that must run again first (e.g. the session channel was deleted)."""

    def __init__(self, failure: StepProblem, *, reopen: tuple[str, ...] = ()) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.reopen = reopen


def fail(kind: Problem, error: str | None = None, *, reopen: tuple[str, ...] = (),
         **values: object) -> StepFailed:
    return StepFailed(problem(kind, error, **values), reopen=reopen)


def http_error_text(error: discord.HTTPException) -> str:
    """`Missing Permissions (403, code 50013)`: what Discord answered, for humans."""
    text = error.text or (error.response.reason if error.response is not None else "") or "error"
    return f"{text} ({error.status}, code {error.code})"
