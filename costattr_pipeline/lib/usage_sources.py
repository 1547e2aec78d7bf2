"""Product metering sources (contract 2.4): ``usage/usage_events`` and ``usage/external_api_costs``.

Both are optional CSV or Parquet tables. Reading validates every row (types,
required values, no negative quantities, USD only) before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, find_table_file, read_table_file

USAGE_FOLDER = "usage"
USAGE_EVENTS = "usage_events"
EXTERNAL_API_COSTS = "external_api_costs"
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


def _position(path: Path, index: int) -> str:
    # read_table_file keeps the file's row order; CSV line 1 is the header.
    return f"line {index + 2}" if path.suffix.lower() == ".csv" else f"row {index + 1}"


def _first(mask: pa.ChunkedArray) -> int | None:
    positions = pc.indices_nonzero(pc.fill_null(mask, False))
    return positions[0].as_py() if len(positions) else None


def read_usage_events(source_dir: Path) -> tuple[pa.Table | None, str]:
    """The usage events file typed and validated, or None when absent; with its display name."""
    name = f"{USAGE_FOLDER}/{USAGE_EVENTS}"
    path = find_table_file(Path(source_dir) / USAGE_FOLDER, USAGE_EVENTS)
    if path is None:
        return None, name
    name = f"{USAGE_FOLDER}/{path.name}"
    events = read_table_file(path, USAGE_EVENT_COLUMNS, display_name=name)
    negative = _first(pc.less(events["quantity"], pa.scalar(0, events.schema.field("quantity").type)))
    if negative is not None:
        raise SourceError(name, _position(path, negative),
                          f"column 'quantity' must not be negative, got {events['quantity'][negative].as_py()}")
    return events, name


def read_external_api_costs(source_dir: Path) -> tuple[pa.Table | None, str]:
    """The external API costs file typed and validated (USD only), or None when absent."""
    name = f"{USAGE_FOLDER}/{EXTERNAL_API_COSTS}"
    path = find_table_file(Path(source_dir) / USAGE_FOLDER, EXTERNAL_API_COSTS)
    if path is None:
        return None, name
    name = f"{USAGE_FOLDER}/{path.name}"
    costs = read_table_file(path, EXTERNAL_API_COST_COLUMNS, display_name=name)
    currency = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(costs["currency"], COST_CURRENCY)))
    currency = pc.if_else(pc.equal(currency, ""), COST_CURRENCY, currency)
    other = _first(pc.not_equal(currency, COST_CURRENCY))
    if other is not None:
        raise SourceError(name, _position(path, other),
                          f"column 'currency' must be {COST_CURRENCY} (there are no exchange rates), "
                          f"got {costs['currency'][other].as_py()!r}")
    tenant = pc.utf8_trim_whitespace(costs["tenant_id"])
    tenant = pc.if_else(pc.equal(tenant, ""), pa.scalar(None, pa.string()), tenant)
    costs = costs.set_column(costs.schema.get_field_index("currency"), "currency", currency)
    return costs.set_column(costs.schema.get_field_index("tenant_id"), "tenant_id", tenant), name
