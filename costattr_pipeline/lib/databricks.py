"""Databricks billing system tables -> landing rows (contract 2.3).

Two readers feed the same landing tables: local exports of ``system.billing.usage``
and ``system.billing.list_prices`` (CSV or Parquet), and the live query of a
Databricks SQL warehouse (``databricks_usage.sql``, ``databricks_list_prices.sql``,
Databricks SQL). Whatever the reader, its Arrow rows go through
:func:`usage_landing_rows` / :func:`list_price_landing_rows`: one validation, one
projection, run set-wise in an in-memory DuckDB. Every problem names the source,
the line (CSV) or row and the rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, find_table_file, read_table_file
from costattr_pipeline.lib.sql import render, sql_file

FOLDER = "databricks"
USAGE = "usage"
LIST_PRICES = "list_prices"
RECORD_TYPES = ("ORIGINAL", "RETRACTION", "RESTATEMENT")
# Unit prices are kept to 10 decimal places (Databricks list prices have at most 4 or 5):
# quantity (18 places) x price (10 places) is then exact on DuckDB and within Snowflake's NUMBER(38).
PRICE_SCALE = 10
_ROW = "_costattr_row"

USAGE_COLUMNS = (
    Column("record_id", nullable=False),
    Column("account_id", required=False),
    Column("workspace_id", required=False),
    Column("sku_name", nullable=False),
    Column("cloud", required=False),
    Column("usage_start_time", "TIMESTAMP", nullable=False),
    Column("usage_end_time", "TIMESTAMP", required=False),
    Column("usage_date", "DATE", nullable=False),
    Column("usage_unit", required=False),
    Column("usage_quantity", "DECIMAL(38, 18)", nullable=False),
    Column("custom_tags", required=False),
    Column("usage_metadata", required=False),
    Column("record_type", required=False),
)
LIST_PRICE_COLUMNS = (
    Column("price_start_time", "TIMESTAMP", nullable=False),
    Column("price_end_time", "TIMESTAMP", required=False),
    Column("account_id", required=False),
    Column("sku_name", nullable=False),
    Column("cloud", required=False),
    Column("currency_code", nullable=False),
    Column("usage_unit", required=False),
    Column("pricing", nullable=False),
)

USAGE_ROWS_SQL = sql_file(__file__, "databricks_usage_rows.sql")
PRICE_ROWS_SQL = sql_file(__file__, "databricks_price_rows.sql")
LIVE_USAGE_SQL = sql_file(__file__, "databricks_usage.sql")
LIVE_LIST_PRICES_SQL = sql_file(__file__, "databricks_list_prices.sql")


def tag_path(tag: str) -> str:
    """The JSON path of a custom tag key, quoted so keys with dots or dashes work."""
    return '$."' + tag.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _locator(display_name: str) -> tuple[str, int]:
    """How a 0-based row index is named: CSV line (the header is line 1) or Parquet row (1-based)."""
    return ("line", 2) if display_name.lower().endswith(".csv") else ("row", 1)


def _first_problem(engine: duckdb.DuckDBPyConnection, checks: list[tuple[str, str]], display_name: str) -> None:
    unit, offset = _locator(display_name)
    for condition, rule in checks:
        found = engine.execute(f"SELECT {_ROW}, * FROM incoming WHERE {condition} ORDER BY {_ROW} LIMIT 1")
        row = found.fetchone()
        if row:
            values = dict(zip([column[0] for column in found.description], row))
            raise SourceError(display_name, f"{unit} {values[_ROW] + offset}", rule.format(**values))


def _engine(rows: pa.Table, columns: tuple[Column, ...]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding ``rows`` as ``incoming``, absent optional columns as NULL."""
    for column in columns:
        if column.name not in rows.column_names:
            if column.required:
                raise ValueError(f"landing rows lack column {column.name!r}")
            rows = rows.append_column(column.name, pa.nulls(rows.num_rows, pa.string()))
    rows = rows.append_column(_ROW, pa.array(range(rows.num_rows), pa.int64()))
    engine = duckdb.connect()
    engine.execute("SET TimeZone = 'UTC'")
    engine.register("incoming_arrow", rows)
    # Typed once here (the live reader hands native types, exports are typed by read_table_file).
    projection = ", ".join(
        f"CAST(CAST({column.name} AS TIMESTAMPTZ) AS TIMESTAMP) AS {column.name}" if column.type == "TIMESTAMP"
        else f"CAST({column.name} AS {column.type}) AS {column.name}" for column in columns)
    engine.execute(f"CREATE TEMP TABLE incoming AS SELECT {_ROW}, {projection} FROM incoming_arrow")
    return engine


def usage_landing_rows(rows: pa.Table, display_name: str, source_name: str) -> pa.Table:
    """Validate usage rows and return them in the landing shape of ``metering.databricks_usage``.

    Rules: the required values are present (typed by the reader), ``record_id`` is unique,
    ``custom_tags`` is empty or a JSON object, ``record_type`` is one of ORIGINAL, RETRACTION,
    RESTATEMENT (empty means ORIGINAL) and ``usage_date`` is the UTC day of ``usage_start_time``.
    """
    engine = _engine(rows, USAGE_COLUMNS)
    try:
        not_empty = "{column} IS NOT NULL AND trim({column}) <> ''"
        _first_problem(engine, [
            ("record_id IS NULL OR trim(record_id) = ''", "column 'record_id' is empty"),
            ("sku_name IS NULL OR trim(sku_name) = ''", "column 'sku_name' is empty"),
            ("usage_quantity IS NULL", "column 'usage_quantity' is empty"),
            ("usage_start_time IS NULL", "column 'usage_start_time' is empty"),
            ("usage_date IS NULL", "column 'usage_date' is empty"),
            (f"{_ROW} > (SELECT MIN(first.{_ROW}) FROM incoming AS first WHERE first.record_id = incoming.record_id)",
             "record_id {record_id!r} appears twice: each usage record must be listed once"),
            (not_empty.format(column="custom_tags")
             + " AND (NOT json_valid(custom_tags) OR json_type(custom_tags) <> 'OBJECT')",
             "column 'custom_tags' must be a JSON object, got {custom_tags!r}"),
            (not_empty.format(column="record_type") + f" AND upper(trim(record_type)) NOT IN {RECORD_TYPES}",
             "column 'record_type': {record_type!r} is not one of " + ", ".join(RECORD_TYPES)),
            ("usage_date <> CAST(usage_start_time AS DATE)",
             "usage_date {usage_date} is not the UTC day of usage_start_time {usage_start_time}"),
            ("usage_end_time IS NOT NULL AND usage_end_time < usage_start_time",
             "usage_end_time {usage_end_time} is before usage_start_time {usage_start_time}"),
        ], display_name)
        return engine.sql(render(USAGE_ROWS_SQL, {"source_name": source_name})).to_arrow_table()
    finally:
        engine.close()


def list_price_landing_rows(rows: pa.Table, display_name: str) -> pa.Table:
    """Validate list prices and return them in the landing shape of ``metering.databricks_list_prices``.

    ``pricing`` must be a JSON object with ``effective_list.default`` or ``default``: a
    non-negative decimal with at most 10 decimal places. Both are landed as typed columns;
    the unit price used is ``effective_list.default``, else ``default``. A window must end
    after it starts, and the windows of one SKU (per cloud, account and currency) must not
    overlap: a usage row would otherwise have two prices.
    """
    engine = _engine(rows, LIST_PRICE_COLUMNS)
    try:
        engine.execute("""
            CREATE TEMP TABLE prices AS
            SELECT *,
                   json_extract_string(pricing, '$.default') AS default_text,
                   json_extract_string(pricing, '$.effective_list.default') AS effective_list_text
            FROM incoming WHERE json_valid(pricing) AND json_type(pricing) = 'OBJECT'""")
        decimal = r"'^[0-9]+(\.[0-9]{1," + str(PRICE_SCALE) + r"})?$'"
        _first_problem(engine, [
            ("pricing IS NULL OR NOT json_valid(pricing) OR json_type(pricing) <> 'OBJECT'",
             "column 'pricing' must be a JSON object like {{\"default\": \"0.15\"}}, got {pricing!r}"),
            (f"{_ROW} IN (SELECT {_ROW} FROM prices WHERE default_text IS NULL AND effective_list_text IS NULL)",
             "pricing {pricing} has neither effective_list.default nor default"),
            (f"{_ROW} IN (SELECT {_ROW} FROM prices WHERE NOT regexp_matches(trim(default_text), {decimal}) "
             f"OR NOT regexp_matches(trim(effective_list_text), {decimal}))",
             f"pricing {{pricing}}: a price must be a non-negative decimal with at most {PRICE_SCALE} places"),
            ("price_end_time IS NOT NULL AND price_end_time <= price_start_time",
             "price_end_time {price_end_time} must be after price_start_time {price_start_time}"),
            (f"EXISTS (SELECT 1 FROM incoming AS other WHERE other.{_ROW} < incoming.{_ROW} "
             "AND other.sku_name = incoming.sku_name AND other.currency_code = incoming.currency_code "
             "AND other.cloud IS NOT DISTINCT FROM incoming.cloud "
             "AND other.account_id IS NOT DISTINCT FROM incoming.account_id "
             "AND (other.price_end_time IS NULL OR incoming.price_start_time < other.price_end_time) "
             "AND (incoming.price_end_time IS NULL OR other.price_start_time < incoming.price_end_time))",
             "the price window of {sku_name} from {price_start_time} overlaps an earlier row's window "
             "for the same SKU, cloud, account and currency"),
        ], display_name)
        return engine.sql(PRICE_ROWS_SQL).to_arrow_table()
    finally:
        engine.close()


def read_usage_export(source_dir: Path, start: dt.date | None = None, end: dt.date | None = None,
                      ) -> pa.Table | None:
    """``<source>/databricks/usage.(csv|parquet)`` validated whole, rows of ``[start, end)`` landed; None if absent."""
    path = find_table_file(Path(source_dir) / FOLDER, USAGE)
    if path is None:
        return None
    display_name = f"{FOLDER}/{path.name}"
    rows = usage_landing_rows(read_table_file(path, USAGE_COLUMNS, display_name), display_name, display_name)
    return _within(rows, start, end)


def read_list_prices_export(source_dir: Path) -> pa.Table | None:
    """``<source>/databricks/list_prices.(csv|parquet)`` validated; None if absent."""
    path = find_table_file(Path(source_dir) / FOLDER, LIST_PRICES)
    if path is None:
        return None
    display_name = f"{FOLDER}/{path.name}"
    return list_price_landing_rows(read_table_file(path, LIST_PRICE_COLUMNS, display_name), display_name)


def _within(rows: pa.Table, start: dt.date | None, end: dt.date | None) -> pa.Table:
    """The rows whose usage_date lies in ``[start, end)`` (either bound may be open)."""
    import pyarrow.compute as pc

    condition = pc.scalar(True)
    if start is not None:
        condition = condition & (pc.field("usage_date") >= pa.scalar(start, pa.date32()))
    if end is not None:
        condition = condition & (pc.field("usage_date") < pa.scalar(end, pa.date32()))
    return rows.filter(condition)
