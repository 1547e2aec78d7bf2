"""Tabular source exports (CSV or Parquet): found, validated and typed in one place.

The contract lets a user hand any source table as ``<name>.csv`` or
``<name>.parquet`` (the extension decides), with column names matched
case-insensitively (Snowflake exports are upper case) and ISO-8601 timestamps
that are UTC when they carry no offset. Every reader of a tabular source goes
through :func:`read_table_file`, so a missing column or a bad value always
gives the same kind of message: file, line or row, column and rule.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from pathlib import Path

import duckdb
import pyarrow as pa

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.sql import bind_script

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


def source_folder(path: Path | str) -> Path:
    """The source exports folder, which must exist: a mistyped folder is an error, never "no sources"
    (it would empty every output of the run's days)."""
    folder = Path(path)
    try:
        if folder.is_dir():
            return folder
    except OSError as error:
        raise SourceError(str(folder), None, f"source folder cannot be read: {error.strerror}") from None
    raise SourceError(str(folder), None, "the source folder does not exist (check --source-dir or "
                                         "COSTATTR_SOURCE_DIR)")


def present(path: Path) -> bool:
    """Whether a source file is there: absent is fine (an optional source), unreadable is an error.

    A directory, a broken link, a link loop or a file the process may not read where a source file is
    expected would otherwise read as "no data" and empty the run's days.
    """
    try:
        is_file = path.is_file()
    except OSError as error:  # e.g. a symbolic link loop
        raise SourceError(str(path), None, f"cannot be read: {error.strerror}") from None
    if not is_file:
        if path.is_symlink():
            raise SourceError(str(path), None, "cannot be read: a symbolic link to nothing (or a link loop)")
        if path.exists():
            raise SourceError(str(path), None, "is not a file (a directory?): a source must be a CSV or Parquet file")
        return False
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        raise SourceError(str(path), None, f"cannot be read: {error.strerror}") from None
    return True


def find_table_file(folder: Path, name: str) -> Path | None:
    """``<folder>/<name>.csv`` or ``.parquet``; None when neither exists; an error when both do, or when
    one is there but cannot be read."""
    found = [Path(folder) / f"{name}{extension}" for extension in EXTENSIONS
             if present(Path(folder) / f"{name}{extension}")]
    if len(found) > 1:
        raise SourceError(str(found[0].parent / name), None,
                          f"both {found[0].name} and {found[1].name} exist: keep one")
    return found[0] if found else None


def _reader(path: Path) -> str:
    """The table function that reads the file :path (and, for CSV, its header's :csv_columns).

    A folder named like a Hive partition (BILLING_PERIOD=2026-05, as AWS exports write) adds no column.
    """
    if path.suffix.lower() == ".parquet":
        return "read_parquet(:path, hive_partitioning = false)"
    # Everything as text first: types are checked below, so a bad value is reported, not guessed. The
    # columns are the header's, read beforehand (not sniffed): a row with too few or too many values is
    # then reported on its line, instead of throwing off the guess of the whole file's dialect.
    return ("read_csv(:path, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            "columns = :csv_columns, hive_partitioning = false)")


def _csv_columns(path: Path, name: str) -> dict[str, str]:
    """The CSV header's column names (all read as text), checked: present, UTF-8, not repeated."""
    try:
        with path.open("rb") as handle:
            first = handle.readline()
    except OSError as error:
        raise SourceError(name, None, f"cannot be read: {error.strerror}") from None
    if not first.strip():
        raise SourceError(name, "line 1", "is empty: the first line must name the columns (comma-separated)")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(name, "line 1", f"not UTF-8 text (byte 0x{first[error.start]:02x}): save the file "
                                          "as UTF-8") from None
    _ends_with_line_break(path, name)
    names = [column.strip() for column in next(csv.reader([text]))]
    seen: set[str] = set()
    for column in names:
        if not column:
            raise SourceError(name, "line 1", "a column of the header has no name")
        if column.lower() in seen:
            raise SourceError(name, "line 1", f"column {column!r} appears twice in the header")
        seen.add(column.lower())
    return {column: "VARCHAR" for column in names}


def _ends_with_line_break(path: Path, name: str) -> None:
    """A CSV must end with a line break: one that stops mid-line was cut short, or is still being written,
    and its last value may be cut (``2137`` read as ``21``) with nothing to show for it."""
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        if handle.read(1) not in (b"\n", b"\r"):
            raise SourceError(name, "last line", "the file does not end with a line break: it was cut short or is "
                                                 "still being written (if it is complete, end it with a line break)")


def _read_error(name: str, error: duckdb.Error) -> SourceError:
    """DuckDB's error reading a file, as the one line a user can act on (its line, what is wrong)."""
    text = str(error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"line {line.group(1)}" if line else None
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        return SourceError(name, where, f"{columns.group(2)} values where the header names {columns.group(1)} "
                                        "columns")
    if "Invalid unicode" in text:
        return SourceError(name, where, "not UTF-8 text: save the file as UTF-8")
    return SourceError(name, where, f"cannot be read: {text.splitlines()[0]}")


def _cast(expression: str, column: Column, source_type: str | None = None) -> str:
    """The typed value of ``expression``: NULL when it does not parse (the validation reports it)."""
    target = column.type.upper()
    if source_type is not None and source_type.upper().replace(" ", "") == target.replace(" ", ""):
        return expression  # a Parquet column already of the wanted type: nothing to parse
    if target == "TIMESTAMP":
        # ISO-8601 with or without offset; no offset means UTC (the session time zone is UTC).
        return f"CAST(TRY_CAST({expression} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if target == "VARCHAR":
        return f"CAST({expression} AS VARCHAR)"
    return f"TRY_CAST({expression} AS {column.type})"


@dataclass(frozen=True)
class Rule:
    """A row rule beyond types, checked in the same pass: ``condition`` (SQL over the typed,
    lower-case columns) is true on a bad row; ``message`` is formatted with that row's values."""

    condition: str
    message: str


@dataclass(frozen=True)
class UniqueKey:
    """Columns whose values must not repeat; ``message`` is formatted with the repeating row's values."""

    columns: tuple[str, ...]
    message: str


def stage_table_file(engine: duckdb.DuckDBPyConnection, path: Path | str, columns: Sequence[Column], into: str,
                     display_name: str | None = None, window: tuple[str, object, object] | None = None,
                     rules: Sequence[Rule] = (), unique_key: UniqueKey | None = None) -> str:
    """Validate one source table and make it readable, typed, as the temp view ``into`` of ``engine``.

    Returns a ``SELECT`` of the typed columns (lower case) of the whole source, straight from
    the file or relation (bound, ready to run on ``engine``): what a persistent view over the
    source can be (no window, no row number).

    ``engine`` may be the DuckDB warehouse itself, so a large export never passes through
    Python and is never copied before it lands: ``into`` reads the file (``source_row``, the
    file's line or row, then the columns, lower case). ``window`` = (column, start, end literal
    values) keeps the rows whose typed column is in ``[start, end)`` (rows where it does not parse
    are kept, so they are reported): a run validates and lands the days it covers. A Parquet
    column that already has the wanted type is compared as it is (no parse), so DuckDB can use the
    file's row-group statistics.

    Every type rule, required value and ``rules`` entry is checked in one pass over the file;
    the first problem (by column, then rule, order; its earliest row) raises
    :class:`SourceError` naming the file, the line (CSV, the header is line 1) or row
    (Parquet), the column and the rule. ``unique_key`` is checked last. Extra columns are ignored.
    ``path`` may instead name a relation of ``engine`` (rows fetched from a live source, e.g. a
    registered Arrow table): the same rules then apply, rows numbered from 1 in their order.
    """
    name = display_name or str(path)
    raw = f"{into}_raw"
    engine.execute("SET TimeZone = 'UTC'")
    relation = isinstance(path, str)
    parquet = relation or path.suffix.lower() == ".parquet"
    params: dict[str, object] = {} if relation else {"path": str(path)}
    if not parquet:
        params["csv_columns"] = _csv_columns(path, name)
    relations = {"source_relation": path} if relation else {}

    def run(text: str) -> duckdb.DuckDBPyConnection:
        return engine.execute(bind_script(text, params, relations))

    try:
        if relation:
            run(f"CREATE OR REPLACE TEMP VIEW {raw} AS SELECT row_number() OVER () AS source_row, * FROM source_relation")
        elif parquet:  # the reader numbers rows itself: no window over the whole file
            run(f"CREATE OR REPLACE TEMP VIEW {raw} AS SELECT file_row_number + 1 AS source_row, "
                "* EXCLUDE (file_row_number) FROM read_parquet(:path, file_row_number = true, hive_partitioning = false)")
        else:
            run(f"CREATE OR REPLACE TEMP VIEW {raw} AS SELECT row_number() OVER () AS source_row, * FROM {_reader(path)}")
        described = engine.execute(f"DESCRIBE {raw}").fetchall()[1:]
    except duckdb.Error as error:
        raise _read_error(name, error) from None
    present = [row[0] for row in described]
    type_of = {row[0]: row[1] for row in described}
    by_lower = {column.lower(): column for column in present}

    selected: list[tuple[Column, str | None, str]] = []  # (column, raw expression or None, typed expression)
    for column in columns:
        actual = by_lower.get(column.name.lower())
        if actual is None:
            if column.required:
                raise SourceError(name, None, f"missing column {column.name!r} (found: {', '.join(present)})")
            selected.append((column, None, f"CAST(NULL AS {column.type})"))
        else:
            quoted_name = '"' + actual.replace('"', '""') + '"'
            selected.append((column, quoted_name, _cast(quoted_name, column, type_of[actual])))

    keep = "TRUE"
    if window is not None:
        window_column, params["window_start"], params["window_end"] = window
        typed = next(t for c, r, t in selected if c.name.lower() == window_column.lower())
        keep = f"({typed} IS NULL OR ({typed} >= :window_start AND {typed} < :window_end))"
    projection = ", ".join(f"{typed} AS {column.name.lower()}" for column, _, typed in selected)
    source = "source_relation" if relation else _reader(path)
    run(f"CREATE OR REPLACE TEMP VIEW {into} AS SELECT source_row, {projection} FROM {raw} WHERE {keep}")

    # One pass over the file: per rule, the first row that breaks it.
    problems: list[tuple[str, Callable[[dict[str, Any]], str]]] = []  # (condition over `checked`, message)
    raw_values = []
    for index, (column, expression, typed) in enumerate(selected):
        if expression is None:
            continue
        value = f"_raw_{index}"
        raw_values.append(f"{expression} AS {value}")
        text = "VARCHAR" in type_of[by_lower[column.name.lower()]].upper()
        empty = f"({value} IS NULL OR trim({value}) = '')" if text else f"{value} IS NULL"
        conditions = [] if typed == expression else [f"(NOT {empty} AND {column.name.lower()} IS NULL)"]
        if not column.nullable:
            conditions.append(empty)
        if conditions:
            problems.append((" OR ".join(conditions), partial(_type_message, column, value)))
    problems += [(f"({rule.condition})", rule.message.format_map) for rule in rules]
    checked = f"(SELECT source_row, {projection}, {', '.join(raw_values)} FROM {raw} WHERE {keep}) AS checked"
    unit, offset = ("row", 0) if parquet else ("line", 1)  # a relation's rows are numbered from 1
    # A CSV's every value is decoded once (hashed), so a line that is not UTF-8 is reported here, whatever
    # column it is in, not later by whichever statement first reads that column.
    read_columns = [expression for _, expression, _ in selected if expression]
    decoded = "" if parquet or not read_columns else f"bit_xor(hash({', '.join(read_columns)}))"
    try:  # the one full read of the file (even without a rule to check): a malformed line shows up here
        firsts = run(f"SELECT {decoded or 'COUNT(*)'}" + "".join(
            f", MIN(CASE WHEN {condition} THEN source_row END)" for condition, _ in problems)
            + f" FROM {checked}").fetchall()[0][1:]
    except duckdb.Error as error:
        raise _read_error(name, error) from None
    if problems:
        for (_, message), row in zip(problems, firsts):
            if row is not None:
                _raise_for_row(engine, bind_script(checked, params, relations), row, message, name,
                               f"{unit} {row + offset}")

    if unique_key is not None:
        key = ", ".join(unique_key.columns)
        # A hash aggregate finds whether any key repeats; only then is the first repeat located.
        if engine.execute(f"SELECT 1 FROM {into} GROUP BY {key} HAVING COUNT(*) > 1 LIMIT 1").fetchall():
            row = engine.execute(f"""
                SELECT MIN(source_row) FROM (
                    SELECT source_row, row_number() OVER (PARTITION BY {key} ORDER BY source_row) AS copy
                    FROM {into}) AS copies
                WHERE copy > 1""").fetchall()[0][0]
            _raise_for_row(engine, into, row, unique_key.message.format_map, name, f"{unit} {row + offset}")
    return bind_script(f"SELECT {projection} FROM {source}", params if not relation else {}, relations)


def _type_message(column: Column, value_column: str, values: dict[str, Any]) -> str:
    value = values[value_column]
    if value is None or not str(value).strip():
        return f"column {column.name!r} is empty"
    return f"column {column.name!r}: {str(value)!r} is not a valid {column.type}"


def _raise_for_row(engine: duckdb.DuckDBPyConnection, relation: str, row: int,
                   message: Callable[[dict[str, Any]], str], name: str, where: str) -> None:
    values = engine.sql(bind_script(f"SELECT * FROM {relation} WHERE source_row = :row",
                                    {"row": int(row)})).to_arrow_table().to_pylist()[0]
    raise SourceError(name, where, message(values))


def read_table_file(path: Path, columns: Sequence[Column], display_name: str | None = None,
                    rules: Sequence[Rule] = (), window: tuple[str, object, object] | None = None) -> pa.Table:
    """Read, validate (types, then ``rules``) and type one source table; return it with lower-case column
    names. With ``window`` (column, start, end), only the rows of ``[start, end)`` are validated and read:
    a run checks what it computes."""
    engine = duckdb.connect()
    try:
        stage_table_file(engine, path, columns, "staged", display_name, rules=rules, window=window)
        return engine.sql("SELECT * EXCLUDE (source_row) FROM staged ORDER BY source_row").to_arrow_table()
    finally:
        engine.close()
