"""Tabular source exports (CSV or Parquet): found, validated and typed in one place.

The contract lets a user hand any source table as ``<name>.csv`` or
``<name>.parquet`` (the extension decides), with column names matched
case-insensitively (Snowflake exports are upper case) and ISO-8601 timestamps
that are UTC when they carry no offset. Every reader of a tabular source goes
through :func:`read_table_file`, so a missing column or a bad value always
gives the same kind of message: file, line or row, column and rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from costattr_pipeline.lib.errors import SourceError

EXTENSIONS = (".csv", ".parquet")


@dataclass(frozen=True)
class Column:
    """A column a source must (or may) have, with the DuckDB type its values must cast to.

    ``type`` is a DuckDB type (``VARCHAR``, ``DATE``, ``TIMESTAMP``, ``DECIMAL(38, 12)``,
    ``BIGINT``, ``BOOLEAN``). ``TIMESTAMP`` values are read as UTC. ``required`` columns
    must exist; ``nullable`` False columns must have a value on every row.
    """

    name: str
    type: str = "VARCHAR"
    required: bool = True
    nullable: bool = True


def find_table_file(folder: Path, name: str) -> Path | None:
    """``<folder>/<name>.csv`` or ``.parquet``; None when neither exists; an error when both do."""
    found = [Path(folder) / f"{name}{extension}" for extension in EXTENSIONS
             if (Path(folder) / f"{name}{extension}").is_file()]
    if len(found) > 1:
        raise SourceError(str(found[0].parent / name), None,
                          f"both {found[0].name} and {found[1].name} exist: keep one")
    return found[0] if found else None


def _reader(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{quoted}')"
    # Everything as text first: types are checked below, so a bad value is reported, not guessed.
    return f"read_csv('{quoted}', header = true, all_varchar = true, auto_detect = true)"


def _cast(expression: str, column: Column) -> str:
    if column.type.upper() == "TIMESTAMP":
        # ISO-8601 with or without offset; no offset means UTC (the session time zone is UTC).
        return f"CAST(TRY_CAST({expression} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if column.type.upper() == "VARCHAR":
        return f"CAST({expression} AS VARCHAR)"
    return f"TRY_CAST({expression} AS {column.type})"


def read_table_file(path: Path, columns: Sequence[Column], display_name: str | None = None) -> pa.Table:
    """Read, validate and type one source table; return it with lower-case column names.

    Extra columns are ignored. Raises :class:`SourceError` naming the file, the line (CSV,
    counting the header as line 1) or row (Parquet), the column and the rule.
    """
    name = display_name or str(path)
    engine = duckdb.connect()
    try:
        engine.execute("SET TimeZone = 'UTC'")
        try:
            engine.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM {_reader(path)}")
            present = [row[0] for row in engine.execute("DESCRIBE raw").fetchall()]
        except duckdb.Error as error:
            raise SourceError(name, None, f"cannot be read: {str(error).splitlines()[0]}") from None
        by_lower = {column.lower(): column for column in present}
        selected = []
        for column in columns:
            actual = by_lower.get(column.name.lower())
            if actual is None:
                if column.required:
                    raise SourceError(name, None, f"missing column {column.name!r} (found: {', '.join(present)})")
                selected.append((column, "NULL"))
            else:
                selected.append((column, '"' + actual.replace('"', '""') + '"'))

        engine.execute("CREATE TEMP TABLE numbered AS SELECT row_number() OVER () AS source_row, * FROM raw")
        unit = "line" if path.suffix.lower() == ".csv" else "row"
        offset = 1 if unit == "line" else 0
        for column, expression in selected:
            if expression == "NULL":
                continue
            empty = f"({expression} IS NULL OR trim(CAST({expression} AS VARCHAR)) = '')"
            conditions = [f"NOT {empty} AND {_cast(expression, column)} IS NULL"]
            if not column.nullable:
                conditions.append(empty)
            bad = engine.execute(
                f"SELECT source_row, CAST({expression} AS VARCHAR) FROM numbered "
                f"WHERE {' OR '.join(conditions)} ORDER BY source_row LIMIT 1").fetchall()
            if bad:
                row, value = bad[0]
                rule = (f"column {column.name!r} is empty" if value is None or not value.strip()
                        else f"column {column.name!r}: {value!r} is not a valid {column.type}")
                raise SourceError(name, f"{unit} {row + offset}", rule)

        projection = ", ".join(
            f"{'CAST(NULL AS ' + column.type + ')' if expression == 'NULL' else _cast(expression, column)}"
            f" AS {column.name.lower()}"
            for column, expression in selected)
        return engine.sql(f"SELECT {projection} FROM numbered ORDER BY source_row").to_arrow_table()
    finally:
        engine.close()
