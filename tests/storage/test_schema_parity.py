"""The migrations build the same schema on SQLite and PostgreSQL, and it matches the models."""

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.types import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    TypeEngine,
)

from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.models import EXCLUSION_CONSTRAINT_NAME, Base

# Most specific first: BigInteger is an Integer, Text is a String, DateTime is not a Date.
_FAMILIES: list[tuple[type[TypeEngine[Any]], str]] = [
    (BigInteger, "bigint"),
    (Boolean, "boolean"),
    (Integer, "integer"),
    (DateTime, "datetime"),
    (Date, "date"),
    (JSON, "json"),
    (Text, "text"),
    (String, "string"),
]


def type_family(column_type: TypeEngine[Any]) -> str:
    for kind, family in _FAMILIES:
        if isinstance(column_type, kind):
            if family == "string":
                return f"string({column_type.length})"
            return family
    raise AssertionError(f"unexpected column type {column_type!r}")


def snapshot(connection: Connection) -> dict[str, dict[str, Any]]:
    """Everything about the schema that must not differ between backends."""
    inspector = inspect(connection)
    tables: dict[str, dict[str, Any]] = {}
    for table in sorted(inspector.get_table_names()):
        pk = inspector.get_pk_constraint(table)
        tables[table] = {
            "columns": [
                (column["name"], type_family(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            ],
            "primary_key": (pk["name"], tuple(pk["constrained_columns"])),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
                # PostgreSQL also lists the indexes behind unique and exclusion constraints.
                if "duplicates_constraint" not in index
            ),
            "checks": sorted(check["name"] for check in inspector.get_check_constraints(table)),
        }
    return tables


def postgres_extras(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    timestamps = {
        (table, column["name"]): column["type"].timezone
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if isinstance(column["type"], DateTime)
    }
    exclusion_indexes = [
        index["name"]
        for index in inspector.get_indexes("bookings")
        if index.get("duplicates_constraint") == EXCLUSION_CONSTRAINT_NAME
    ]
    return {"timestamps": timestamps, "exclusion_indexes": exclusion_indexes}


async def _migrate_and_inspect(url: str, *inspections: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        await migrate_engine(engine)
        async with engine.connect() as connection:
            return [await connection.run_sync(inspection) for inspection in inspections]
    finally:
        await engine.dispose()


async def test_sqlite_and_postgres_schemas_are_the_same(sqlite_url, postgres_url):
    (on_sqlite,) = await _migrate_and_inspect(sqlite_url, snapshot)
    on_postgres, extras = await _migrate_and_inspect(postgres_url, snapshot, postgres_extras)

    assert set(on_sqlite) == set(Base.metadata.tables) | {"alembic_version"}
    assert set(on_postgres) == set(on_sqlite)
    for table in on_sqlite:
        assert on_postgres[table] == on_sqlite[table], table
    # PostgreSQL stores every timestamp with its zone and enforces the no-overlap rule itself.
    assert extras["timestamps"]
    assert all(extras["timestamps"].values()), extras["timestamps"]
    assert extras["exclusion_indexes"] == [EXCLUSION_CONSTRAINT_NAME]


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrations_match_the_models(db_url):
    (differences,) = await _migrate_and_inspect(db_url, _differences)
    assert differences == []


def _normalise_sql(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def _check_texts(connection: Connection) -> dict[tuple[str, str], str]:
    inspector = inspect(connection)
    return {
        (table, check["name"]): _normalise_sql(check["sqltext"])
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
    }


async def test_check_constraints_match_the_models(sqlite_url):
    # compare_metadata ignores CHECK constraints, so compare their SQL text directly.
    (migrated,) = await _migrate_and_inspect(sqlite_url, _check_texts)
    modelled = {
        (table.name, str(constraint.name)): _normalise_sql(str(constraint.sqltext))
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert migrated == modelled
