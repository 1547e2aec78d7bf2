"""Source tables read in place in the warehouse (production): the same column and row rules as the files.

A file source is validated by DuckDB on this machine (:mod:`costattr_pipeline.lib.source_files`); a source
that is already a table of the warehouse (the product's ``METERING.USAGE_EVENTS`` in Snowflake) is validated
where it lives, by SQL built here: one scan finds the first row that breaks a rule (by column, then rule,
order; the lowest row key), and the error names the table, the row's key and the rule. Only when every row of
the run's window passes are the rows copied, by ``INSERT ... SELECT`` inside the warehouse: no row passes
through Python.

The SQL is written in the project's source dialect (DuckDB) and transpiled by :mod:`costattr_pipeline.lib.sql`,
so only the common subset is used: text is parsed with ``TRY_CAST(CAST(x AS VARCHAR) AS <type>)`` (Snowflake's
``TRY_CAST`` takes text only), a time with a zone is converted to UTC (``AT TIME ZONE 'UTC'``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, Rule

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_$]*"
RELATION_NAME = re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER}){{1,2}}$")

_TEXT_TYPES = ("TEXT", "VARCHAR", "STRING", "CHAR", "CHARACTER")
_NUMBER_TYPES = ("NUMBER", "DECIMAL", "NUMERIC", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT", "FIXED")
_FLOAT_TYPES = ("FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL")


@dataclass(frozen=True)
class SourceRelation:
    """A configured source table: ``[database.]schema.table`` as written, and its parts upper case
    (unquoted Snowflake names are case-insensitive: ``metering.usage_events`` is ``METERING.USAGE_EVENTS``)."""

    name: str
    database: str | None
    schema: str
    table: str

    @classmethod
    def parse(cls, name: str) -> SourceRelation:
        if not RELATION_NAME.match(name):
            raise ValueError(f"not a table name: {name!r} (expected schema.table or database.schema.table)")
        parts = name.upper().split(".")
        return cls(name, parts[0] if len(parts) == 3 else None, parts[-2], parts[-1])

    def in_schema(self, current_database: str, schema: str) -> bool:
        """Whether this table lives in ``schema`` of the connection's database (a two-part name does)."""
        return (self.database or current_database.upper()) == current_database.upper() and self.schema == schema.upper()

    def columns_query(self) -> str:
        """The table's columns and types (none: the table does not exist), from its database's information schema."""
        catalog = f"{self.database}.information_schema.columns" if self.database else "information_schema.columns"
        return (f"SELECT column_name AS name, data_type AS type FROM {catalog} "
                "WHERE UPPER(table_schema) = :schema AND UPPER(table_name) = :table")

    def columns_params(self) -> dict[str, str]:
        return {"schema": self.schema, "table": self.table}


# The schema costattr writes its own tables in: a source there would be one of costattr's tables.
COSTATTR_SCHEMA = "METERING"


def reject_costattr_table(setting: str, name: str, current_database: str) -> None:
    """Refuse a source table in costattr's own schema of ``current_database`` (the database costattr writes to):
    unquoted names are case-insensitive, so the product's ``METERING.USAGE_EVENTS`` there would be
    costattr's landing table ``metering.usage_events`` itself."""
    if SourceRelation.parse(name).in_schema(current_database, COSTATTR_SCHEMA):
        raise SourceError(
            f"settings.yaml usage_source.{setting}", None,
            f"{name} is in costattr's own schema {current_database.upper()}.{COSTATTR_SCHEMA}, where the landing "
            f"writes metering.{setting} (unquoted names are case-insensitive: it is the same table); name the "
            "product's table in another database or schema")


@dataclass(frozen=True)
class TypedColumn:
    """One expected column as the source has it: its raw expression (None: optional and absent), the typed
    expression, and whether the raw value is text (empty text counts as no value)."""

    column: Column
    raw: str | None
    typed: str
    text: bool


def typed_columns(source: SourceRelation, columns: Sequence[Column], found: dict[str, str]) -> list[TypedColumn]:
    """How each expected column is read from the table whose columns are ``found`` (name -> warehouse type).

    A column of the wanted kind is cast as it is; a text column is parsed (a value that does not parse is
    reported). A binary float is refused for an exact column: its value is not the amount that was meant.
    """
    by_upper = {name.upper(): (name, kind.upper()) for name, kind in found.items()}
    typed = []
    for column in columns:
        present = by_upper.get(column.name.upper())
        if present is None:
            if column.required:
                raise SourceError(source.name, None, f"missing column {column.name!r} "
                                                     f"(found: {', '.join(found)})")
            typed.append(TypedColumn(column, None, f"CAST(NULL AS {column.type})", False))
            continue
        name, kind = present
        raw = '"' + name.replace('"', '""') + '"'
        typed.append(TypedColumn(column, raw, _typed(source, column, raw, kind), kind.startswith(_TEXT_TYPES)))
    return typed


def _typed(source: SourceRelation, column: Column, raw: str, kind: str) -> str:
    target = column.type.upper()
    if target == "VARCHAR":
        return f"CAST({raw} AS VARCHAR)"
    if kind.startswith(_FLOAT_TYPES) and target.startswith("DECIMAL"):
        raise SourceError(source.name, None, f"column {column.name!r} is {kind}, a binary float: an exact amount "
                                             "needs NUMBER(p, s) (or text)")
    if target.startswith("DECIMAL") and kind.startswith(_NUMBER_TYPES):
        return f"CAST({raw} AS {column.type})"
    # A time with a zone (TIMESTAMP_LTZ, TIMESTAMP_TZ) is converted to its UTC time explicitly, whatever the
    # session's TIMEZONE: a day is a UTC day everywhere in costattr.
    zoned = kind.startswith("TIMESTAMP") and kind not in ("TIMESTAMP_NTZ", "TIMESTAMP")
    utc_time = f"CAST({raw} AT TIME ZONE 'UTC' AS TIMESTAMP)" if zoned else f"CAST({raw} AS TIMESTAMP)"
    if target == "TIMESTAMP" and kind.startswith("TIMESTAMP"):
        return utc_time
    if target == "DATE" and kind == "DATE":
        return f"CAST({raw} AS DATE)"
    if target == "DATE" and kind.startswith("TIMESTAMP"):
        return f"CAST({utc_time} AS DATE)"
    return f"TRY_CAST(CAST({raw} AS VARCHAR) AS {column.type})"  # text (or another kind): parsed, NULL if not


def first_problem_query(typed: Sequence[TypedColumn], rules: Sequence[Rule], window_column: str,
                        key: Sequence[str]) -> tuple[str, list[Any]]:
    """One query over the window's rows (``:start_date``, ``:end_date``; rows whose window column does not parse
    are kept, so they are reported) returning the first row that breaks a rule, with ``problem`` (its index in the
    returned list of messages), the typed columns and the raw values; no row when every row passes."""
    checks: list[tuple[str, Any]] = []
    raw_values = []
    for index, column in enumerate(typed):
        if column.raw is None:
            continue
        value = f"raw_value_{index}"
        raw_values.append(f"{column.raw} AS {value}")
        empty = f"({value} IS NULL OR TRIM(CAST({value} AS VARCHAR)) = '')" if column.text else f"{value} IS NULL"
        conditions = [] if not column.typed.startswith("TRY_CAST") else [
            f"(NOT {empty} AND {column.column.name.lower()} IS NULL)"]
        if not column.column.nullable:
            conditions.append(empty)
        if conditions:
            checks.append((" OR ".join(conditions), _TypeMessage(column.column, value)))
    checks += [(f"({rule.condition})", rule.message) for rule in rules]
    problem = "CASE " + " ".join(f"WHEN {condition} THEN {index}" for index, (condition, _) in enumerate(checks)) \
        + " END" if checks else "CAST(NULL AS INTEGER)"
    order = ", ".join(f"{name} NULLS FIRST" for name in key)
    query = f"""
        SELECT * FROM (
            SELECT {problem} AS problem, checked.*
            FROM ({checked_rows(typed, window_column, raw_values)}) AS checked
        ) AS judged
        WHERE problem IS NOT NULL
        ORDER BY problem, {order}
        LIMIT 1"""
    return query, [message for _, message in checks]


def checked_rows(typed: Sequence[TypedColumn], window_column: str, extra: Sequence[str] = ()) -> str:
    """The window's rows of ``source_table`` with the typed columns (lower case) and ``extra`` expressions."""
    window = next(column.typed for column in typed if column.column.name.lower() == window_column.lower())
    projection = ", ".join([*(f"{column.typed} AS {column.column.name.lower()}" for column in typed), *extra])
    return (f"SELECT {projection} FROM source_table "
            f"WHERE {window} IS NULL OR ({window} >= :start_date AND {window} < :end_date)")


def raise_for_row(source: SourceRelation, row: dict[str, Any], messages: list[Any], key: Sequence[str]) -> None:
    """The one-line error of the first bad row: ``<table>: <key values>: <rule>``."""
    where = ", ".join(f"{name} {_shown(row.get(name))}" for name in key)
    message = messages[int(row["problem"])]
    text = message(row) if isinstance(message, _TypeMessage) else message.format_map(row)
    raise SourceError(source.name, where, text)


def _shown(value: Any) -> str:
    return "NULL" if value is None else repr(str(value))


@dataclass(frozen=True)
class _TypeMessage:
    column: Column
    value_column: str

    def __call__(self, row: dict[str, Any]) -> str:
        value = row.get(self.value_column)
        if value is None or not str(value).strip():
            return f"column {self.column.name!r} is empty"
        return f"column {self.column.name!r}: {str(value)!r} is not a valid {self.column.type}"
