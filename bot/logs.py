"""Standard-library logging: one line per event, secrets scrubbed."""

from __future__ import annotations

import logging
from collections.abc import Iterable


class OneLineFormatter(logging.Formatter):
    """Keeps each record on one line, tracebacks included (newlines become ' | ')."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", " | ")


class RedactSecrets(logging.Filter):
    """Replaces any known secret value that reaches a log record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            text = record.getMessage()
            if any(s in text for s in self._secrets):
                for secret in self._secrets:
                    text = text.replace(secret, "********")
                record.msg, record.args = text, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(max(logging.INFO, root.level))
