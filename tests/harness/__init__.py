"""Test harness for Discord: dpytest for guild state, plus a driver for interactions.

Private discord.py/dpytest APIs are used only inside this package (pinned to discord.py 2.7.x).
"""

from tests.harness.dpytest_fixes import (
    BOT_PERMISSIONS,
    close_dms,
    grant_bot_permissions,
    grant_permissions,
    open_dms,
    sent_payload,
)
from tests.harness.driver import InteractionDriver
from tests.harness.errors import (
    CommandUnavailableError,
    ComponentNotFoundError,
    HarnessError,
    InteractionTimeoutError,
    InvalidInteractionInput,
    NoResponseError,
    UnhandledInteractionError,
)
from tests.harness.recorder import ModalSpec, Response, Responses, SentFile

__all__ = [
    "BOT_PERMISSIONS",
    "CommandUnavailableError",
    "ComponentNotFoundError",
    "HarnessError",
    "InteractionDriver",
    "InteractionTimeoutError",
    "InvalidInteractionInput",
    "ModalSpec",
    "NoResponseError",
    "Response",
    "Responses",
    "SentFile",
    "UnhandledInteractionError",
    "close_dms",
    "grant_bot_permissions",
    "grant_permissions",
    "open_dms",
    "sent_payload",
]
