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


def stage_table_file(engine: duckdb.DuckDBPyConnection, path: Path, columns: Sequence[Column], into: str,
                     display_name: str | None = None, window: tuple[str, str, str] | None = None) -> None:
    """Validate and type one source table into the temp table ``into`` of ``engine``.

    ``engine`` may be the DuckDB warehouse itself, so a large export never passes through
    Python. ``into`` gets ``source_row`` (the file's line or row) and the columns, lower case.
    ``window`` = (column, start, end literal SQL) keeps only the rows whose typed column is in
    ``[start, end)`` (rows where it does not parse are kept, so they are reported): a run
    validates and lands the days it covers, not the whole history. Extra columns are ignored.
    Raises :class:`SourceError` naming the file, the line (CSV, the header is line 1) or row
    (Parquet), the column and the rule.
    """
    name = display_name or str(path)
    raw, numbered = f"{into}_raw", f"{into}_numbered"
    engine.execute("SET TimeZone = 'UTC'")
    parquet = path.suffix.lower() == ".parquet"
    try:
        if parquet:  # the reader numbers rows itself: no window over the whole file
            quoted = str(path).replace("'", "''")
            engine.execute(f"CREATE OR REPLACE TEMP VIEW {raw} AS "
                           f"SELECT file_row_number + 1 AS source_row, * EXCLUDE (file_row_number) "
                           f"FROM read_parquet('{quoted}', file_row_number = true)")
        else:
            engine.execute(f"CREATE OR REPLACE TEMP VIEW {raw} AS "
                           f"SELECT row_number() OVER () AS source_row, * FROM {_reader(path)}")
        present = [row[0] for row in engine.execute(f"DESCRIBE {raw}").fetchall()][1:]
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

    keep = "TRUE"
    if window is not None:
        window_column, window_start, window_end = window
        column, expression = next((c, e) for c, e in selected if c.name.lower() == window_column.lower())
        typed = _cast(expression, column)
        keep = f"({typed} IS NULL OR ({typed} >= {window_start} AND {typed} < {window_end}))"
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {numbered} AS SELECT * FROM {raw} WHERE {keep}")
    unit, offset = ("row", 0) if parquet else ("line", 1)
    for column, expression in selected:
        if expression == "NULL":
            continue
        empty = f"({expression} IS NULL OR trim(CAST({expression} AS VARCHAR)) = '')"
        conditions = [f"NOT {empty} AND {_cast(expression, column)} IS NULL"]
        if not column.nullable:
            conditions.append(empty)
        bad = engine.execute(
            f"SELECT source_row, CAST({expression} AS VARCHAR) FROM {numbered} "
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
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS "
                   f"SELECT source_row, {projection} FROM {numbered} ORDER BY source_row")
    engine.execute(f"DROP TABLE {numbered}")
    engine.execute(f"DROP VIEW {raw}")


def read_table_file(path: Path, columns: Sequence[Column], display_name: str | None = None) -> pa.Table:
    """Read, validate and type one whole source table; return it with lower-case column names."""
    engine = duckdb.connect()
    try:
        stage_table_file(engine, path, columns, "staged", display_name)
        return engine.sql("SELECT * EXCLUDE (source_row) FROM staged ORDER BY source_row").to_arrow_table()
    finally:
        engine.close()
