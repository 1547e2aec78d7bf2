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

from costattr_pipeline.lib.arrow_tables import row_numbers
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, Rule, UniqueKey, find_table_file, read_table_file, stage_table_file
from costattr_pipeline.lib.sql import bind_script, sql_file

FOLDER = "databricks"
USAGE = "usage"
LIST_PRICES = "list_prices"
RECORD_TYPES = ("ORIGINAL", "RETRACTION", "RESTATEMENT")
# Unit prices are kept to 10 decimal places (Databricks list prices have at most 4 or 5):
# quantity (18 places) x price (10 places) is then exact on DuckDB and within Snowflake's NUMBER(38).
PRICE_SCALE = 10
_ROW = "_costattr_row"

# Every column of the contract's list is required (record_type alone may be absent: all ORIGINAL): a column
# missing from an export, unlike an empty value, would change results without a word (no custom_tags: every
# record untagged; no cloud: other prices matched).
USAGE_COLUMNS = (
    Column("record_id", nullable=False),
    Column("account_id"),
    Column("workspace_id"),
    Column("sku_name", nullable=False),
    Column("cloud"),
    Column("usage_start_time", "TIMESTAMP", nullable=False),
    Column("usage_end_time", "TIMESTAMP"),
    Column("usage_date", "DATE", nullable=False),
    Column("usage_unit"),
    Column("usage_quantity", "DECIMAL(38, 18)", nullable=False),
    Column("custom_tags"),
    Column("usage_metadata"),
    Column("record_type", required=False),
)
LIST_PRICE_COLUMNS = (
    Column("price_start_time", "TIMESTAMP", nullable=False),
    Column("price_end_time", "TIMESTAMP"),
    Column("account_id"),
    Column("sku_name", nullable=False),
    Column("cloud"),
    Column("currency_code", nullable=False),
    Column("usage_unit"),
    Column("pricing", nullable=False),
)

_NOT_EMPTY = "{column} IS NOT NULL AND trim({column}) <> ''"
# Row rules of a usage record beyond its column types (checked in the same pass as the types).
USAGE_RULES = (
    Rule(_NOT_EMPTY.format(column="custom_tags")
         + " AND (NOT json_valid(custom_tags) OR json_type(custom_tags) <> 'OBJECT')",
         "column 'custom_tags' must be a JSON object, got {custom_tags!r}"),
    Rule(_NOT_EMPTY.format(column="record_type") + f" AND upper(trim(record_type)) NOT IN {RECORD_TYPES}",
         "column 'record_type': {record_type!r} is not one of " + ", ".join(RECORD_TYPES)),
    Rule("usage_date <> CAST(usage_start_time AS DATE)",
         "usage_date {usage_date} is not the UTC day of usage_start_time {usage_start_time}"),
    Rule("usage_end_time IS NOT NULL AND usage_end_time < usage_start_time",
         "usage_end_time {usage_end_time} is before usage_start_time {usage_start_time}"),
    # Only a retraction takes usage back: Databricks never delivers a negative original or restatement.
    Rule("usage_quantity < 0 AND COALESCE(NULLIF(upper(trim(record_type)), ''), 'ORIGINAL') <> 'RETRACTION'",
         "usage_quantity {usage_quantity} is negative but record_type is not RETRACTION"),
)
USAGE_UNIQUE = UniqueKey(("record_id",), "record_id {record_id!r} appears twice: each usage record must be listed once")
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
        found = engine.sql(f"SELECT {_ROW}, * FROM incoming WHERE {condition} ORDER BY {_ROW} LIMIT 1"
                           ).to_arrow_table().to_pylist()
        if found:
            values = found[0]
            raise SourceError(display_name, f"{unit} {values[_ROW] + offset}", rule.format(**values))


def _engine(rows: pa.Table, columns: tuple[Column, ...]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding ``rows`` as ``incoming``, absent optional columns as NULL."""
    for column in columns:
        if column.name not in rows.column_names:
            if column.required:
                raise ValueError(f"landing rows lack column {column.name!r}")
            rows = rows.append_column(column.name, pa.nulls(rows.num_rows, pa.string()))
    rows = rows.append_column(_ROW, row_numbers(rows.num_rows))
    engine = duckdb.connect()
    engine.execute("SET TimeZone = 'UTC'")
    engine.register("incoming_arrow", rows)
    # Typed once here (the live reader hands native types, exports are typed by read_table_file).
    projection = ", ".join(
        f"CAST(CAST({column.name} AS TIMESTAMPTZ) AS TIMESTAMP) AS {column.name}" if column.type == "TIMESTAMP"
        else f"CAST({column.name} AS {column.type}) AS {column.name}" for column in columns)
    engine.execute(f"CREATE TEMP TABLE incoming AS SELECT {_ROW}, {projection} FROM incoming_arrow")
    return engine


def stage_usage(engine: duckdb.DuckDBPyConnection, source: Path | pa.Table, display_name: str, into: str,
                start: dt.date | None = None, end: dt.date | None = None, source_name: str | None = None) -> str:
    """Validate usage rows (a CSV/Parquet export, or Arrow from the live reader) of ``[start, end)``.

    Returns SELECT SQL (bound, ``source_name`` the landing rows' source, default ``display_name``)
    giving them in the landing shape of ``metering.databricks_usage``, to run on ``engine``: on the DuckDB warehouse an export is validated and landed without a
    copy through Python. Rules: the required values are present and typed, ``record_id`` is
    unique, ``custom_tags`` is empty or a JSON object, ``record_type`` is one of ORIGINAL,
    RETRACTION, RESTATEMENT (empty means ORIGINAL), ``usage_date`` is the UTC day of
    ``usage_start_time`` and the record does not end before it starts.
    """
    if isinstance(source, pa.Table):
        engine.register(f"{into}_arrow", source)
        source = f"{into}_arrow"
    window = None
    if start is not None and end is not None:
        window = ("usage_date", start, end)
    stage_table_file(engine, source, USAGE_COLUMNS, into, display_name, window=window, rules=USAGE_RULES,
                     unique_key=USAGE_UNIQUE)
    return bind_script(USAGE_ROWS_SQL, {"source_name": source_name or display_name}, {"staged_usage": into})


def usage_landing_rows(rows: pa.Table, display_name: str, source_name: str) -> pa.Table:
    """Validate usage rows and return them, as Arrow, in the landing shape of ``metering.databricks_usage``."""
    engine = duckdb.connect()
    try:
        select = stage_usage(engine, rows, display_name, "incoming", source_name=source_name)
        return engine.sql(select).to_arrow_table()
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


def usage_export(source_dir: Path | str) -> Path | None:
    """``<source>/databricks/usage.(csv|parquet)``, or None when absent."""
    return find_table_file(Path(source_dir) / FOLDER, USAGE)


def read_usage_export(source_dir: Path, start: dt.date | None = None, end: dt.date | None = None,
                      ) -> pa.Table | None:
    """The usage export's rows of ``[start, end)`` (all when not given), validated, as landing rows; None if absent."""
    path = usage_export(source_dir)
    if path is None:
        return None
    display_name = f"{FOLDER}/{path.name}"
    engine = duckdb.connect()
    try:
        return engine.sql(stage_usage(engine, path, display_name, "incoming", start, end)).to_arrow_table()
    finally:
        engine.close()


def read_list_prices_export(source_dir: Path) -> pa.Table | None:
    """``<source>/databricks/list_prices.(csv|parquet)`` validated; None if absent."""
    path = find_table_file(Path(source_dir) / FOLDER, LIST_PRICES)
    if path is None:
        return None
    display_name = f"{FOLDER}/{path.name}"
    return list_price_landing_rows(read_table_file(path, LIST_PRICE_COLUMNS, display_name), display_name)
