"""Domain errors. Each carries the message a user should see; the command tree's
error handler turns them into ephemeral replies."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure whose message is safe and useful to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class InvalidInput(DomainError):
    """The user typed something we cannot use (bad time, unknown timezone, ...)."""


class NotFound(DomainError):
    """The thing the user named does not exist (any more)."""


class NotAllowed(DomainError):
    """The caller may not do this (not a coach, not an admin, not a participant)."""


class Conflict(DomainError):
    """The request clashes with the current state (slot taken, future bookings exist)."""


class NotConfigured(DomainError):
    """The server or the bot is missing configuration the action needs."""


class SlotTaken(Conflict):
    """The chosen slot is no longer free; `alternatives` are the nearest free starts."""

    def __init__(self, message: str, alternatives: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.alternatives = alternatives
