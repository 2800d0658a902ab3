"""Column types shared by every table.

Timestamps are always UTC-aware in Python. Money is never a float: every amount is an integer
``<name>_minor`` column (minor units, e.g. cents) next to a three-letter ``currency`` column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# JSON documents: JSONB on PostgreSQL (indexable, compares by value), JSON text elsewhere.
JSONDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time as a UTC-aware datetime (used for row timestamps only)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that only accepts and only returns UTC-aware datetimes.

    Writing a naive datetime raises ``ValueError``: a naive value has no meaning here.
    Aware values in any zone are converted to UTC. SQLite has no zone support, so the value is
    stored there as naive UTC text (which also sorts correctly) and made aware again on read;
    PostgreSQL returns aware values in the session zone, which are converted to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused (attach a timezone first): {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
