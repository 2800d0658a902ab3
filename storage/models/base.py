"""The declarative base: naming convention, annotated column types and shared mixins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from sqlalchemy import BigInteger, CheckConstraint, Date, MetaData, String, Text, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from storage.types import UTCDateTime, utcnow

# Deterministic constraint names, identical on SQLite and PostgreSQL (and below 63 characters).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A Discord id (64-bit).
Snowflake = Annotated[int, mapped_column(BigInteger)]
# An amount in minor units (cents), in the currency of its row (or of its parent row).
Money = Annotated[int, mapped_column(BigInteger)]
Currency = Annotated[str, mapped_column(String(3))]
ShortText = Annotated[str, mapped_column(String(100))]
LongText = Annotated[str, mapped_column(Text)]
Url = Annotated[str, mapped_column(String(1024))]
IanaTimezone = Annotated[str, mapped_column(String(64))]


class Base(DeclarativeBase):
    """Every table's base class."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        datetime: UTCDateTime(),
        date: Date(),
        str: String(255),
    }


class Timestamps:
    """``created_at`` / ``updated_at`` columns, maintained by the ORM in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def currency_check() -> CheckConstraint:
    """CHECK that ``currency`` is a three-letter upper-case code."""
    return CheckConstraint("length(currency) = 3 AND currency = upper(currency)", name="currency")


def non_negative(*columns: str) -> list[CheckConstraint]:
    """One CHECK per column that it is NULL or >= 0, named ``<column>_non_negative``."""
    return [CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative") for column in columns]


def _refuse_naive(_target: object, value: object, _old: object, _initiator: object) -> object:
    if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"naive datetime refused (attach a timezone first): {value!r}")
    return value


@event.listens_for(Base, "mapper_configured", propagate=True)
def _guard_utc_columns(mapper: Mapper[Any], class_: type[Any]) -> None:
    """Refuse naive datetimes as soon as they are assigned to a UTCDateTime attribute, not
    only when they are flushed (where SQLAlchemy wraps the ValueError in a StatementError)."""
    for prop in mapper.column_attrs:
        if any(isinstance(column.type, UTCDateTime) for column in prop.columns):
            event.listen(getattr(class_, prop.key), "set", _refuse_naive, retval=True)
