"""Product metering sources (contract 2.4): ``usage/usage_events`` and ``usage/external_api_costs``.

Both are optional CSV or Parquet tables. Reading validates every row (types,
required values, no negative quantities, currency codes) before anything is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from costattr_pipeline.lib.arrow_tables import scalar
from costattr_pipeline.lib.source_files import Column, Rule, find_table_file, read_table_file

USAGE_FOLDER = "usage"
USAGE_EVENTS = "usage_events"
EXTERNAL_API_COSTS = "external_api_costs"
UNIT_DRIVERS = "unit_drivers"
COST_CURRENCY = "USD"

USAGE_EVENT_COLUMNS = (
    Column("event_id", "VARCHAR", nullable=False),
    Column("tenant_id", "VARCHAR", nullable=False),
    Column("module_id", "VARCHAR"),
    Column("metric", "VARCHAR", nullable=False),
    Column("quantity", "DECIMAL(38, 12)", nullable=False),
    Column("event_time", "TIMESTAMP", nullable=False),
)
EXTERNAL_API_COST_COLUMNS = (
    Column("cost_date", "DATE", nullable=False),
    Column("tenant_id", "VARCHAR"),          # empty: a cost no tenant caused (unattributed)
    Column("module_id", "VARCHAR"),
    Column("provider", "VARCHAR", nullable=False),
    Column("amount", "DECIMAL(38, 12)", nullable=False),
    Column("currency", "VARCHAR"),           # empty: USD
)
# What names a row of a source table in an error (a table has no line numbers).
USAGE_EVENT_KEY = ("event_id", "event_time")
EXTERNAL_API_COST_KEY = ("cost_date", "provider", "tenant_id")
UNIT_DRIVER_COLUMNS = (
    Column("date", "DATE", nullable=False),
    Column("unit_type", nullable=False),
    Column("unit_item", nullable=False),
    Column("driver_value", "DECIMAL(38, 12)", nullable=False),
)


# Row rules beyond types, checked by the shared one-pass validation (file, line or row, and rule named).
NON_NEGATIVE_DRIVER = Rule("driver_value < 0", "driver_value must not be negative")
NON_NEGATIVE_QUANTITY = Rule("quantity < 0", "column 'quantity' must not be negative, got {quantity}")
# regexp_matches with anchors: the same test on DuckDB (files) and, as REGEXP_LIKE, in Snowflake (tables).
CURRENCY_CODE = Rule("NULLIF(trim(currency), '') IS NOT NULL AND NOT regexp_matches(upper(trim(currency)), "
                     "'^[A-Z][A-Z][A-Z]$')",
                     "column 'currency' must be a 3-letter ISO currency code (empty: USD), got {currency!r}")


Window = tuple[dt.date, dt.date] | None  # [start, end): the days a run computes; None: the whole file


def _read(source_dir: Path, name: str, columns: tuple[Column, ...], rules: list[Rule], day_column: str,
          window: Window) -> tuple[pa.Table | None, str]:
    """``usage/<name>`` (CSV or Parquet) typed and validated, or None when absent; with its display name.

    With a window, only the rows whose ``day_column`` falls in it are validated and returned."""
    path = find_table_file(Path(source_dir) / USAGE_FOLDER, name)
    if path is None:
        return None, f"{USAGE_FOLDER}/{name}"
    display_name = f"{USAGE_FOLDER}/{path.name}"
    rows = read_table_file(path, columns, display_name, rules,
                           window=None if window is None else (day_column, *window))
    return rows, display_name


def read_usage_events(source_dir: Path, window: Window = None) -> tuple[pa.Table | None, str]:
    """The usage events file (of the window's days of event_time) typed and validated (no negative
    quantity), or None when absent."""
    return _read(source_dir, USAGE_EVENTS, USAGE_EVENT_COLUMNS, [NON_NEGATIVE_QUANTITY], "event_time", window)


def read_external_api_costs(source_dir: Path, window: Window = None) -> tuple[pa.Table | None, str]:
    """The external API costs file typed and validated (a currency code on every row), or None when absent.

    An empty currency is USD (other currencies are converted at the rate of the day when landed); an
    empty tenant_id is NULL (a cost no tenant caused).
    """
    costs, name = _read(source_dir, EXTERNAL_API_COSTS, EXTERNAL_API_COST_COLUMNS, [CURRENCY_CODE], "cost_date", window)
    if costs is None:
        return None, name
    empty, usd, no_tenant = (scalar(value, pa.string()) for value in ("", COST_CURRENCY, None))
    currency = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(costs["currency"], usd)))
    currency = pc.if_else(pc.equal(currency, empty), usd, currency)
    tenant = pc.utf8_trim_whitespace(costs["tenant_id"])
    tenant = pc.if_else(pc.equal(tenant, empty), no_tenant, tenant)
    costs = costs.set_column(costs.schema.get_field_index("currency"), "currency", currency)
    return costs.set_column(costs.schema.get_field_index("tenant_id"), "tenant_id", tenant), name


def read_unit_drivers(source_dir: Path, window: Window = None) -> pa.Table | None:
    """``usage/unit_drivers`` (CSV or Parquet) typed and validated (no negative value), or None when absent.

    The ``date`` column is returned as ``driver_date``.
    """
    drivers, _ = _read(source_dir, UNIT_DRIVERS, UNIT_DRIVER_COLUMNS, [NON_NEGATIVE_DRIVER], "date", window)
    if drivers is None:
        return None
    return drivers.rename_columns(["driver_date", "unit_type", "unit_item", "driver_value"])
