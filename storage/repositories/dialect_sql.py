"""Statements whose SQL differs by dialect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def dialect_name(session: AsyncSession) -> str:
    """``"sqlite"`` or ``"postgresql"`` for the engine the session is bound to."""
    return session.get_bind().dialect.name


def insert_ignoring_conflict(
    session: AsyncSession, model: type[Any], conflict_columns: Sequence[str]
) -> Insert:
    """``INSERT ... ON CONFLICT (conflict_columns) DO NOTHING`` for the session's dialect.

    A duplicate is skipped without raising, so it never aborts the surrounding PostgreSQL
    transaction; the result's ``rowcount`` is 0 for a skipped row and 1 for an inserted one.
    """
    if dialect_name(session) == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
    return sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)


def inserted_count(result: Any) -> int:
    """Rows written by an INSERT executed through ``AsyncSession.execute``."""
    return int(result.rowcount)
