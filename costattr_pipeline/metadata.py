"""Materialization metadata that users read in the UI: row count, schema, totals, a preview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import dagster as dg
import pyarrow as pa

from costattr_pipeline.resources.warehouse import WarehouseSession

PREVIEW_ROWS = 10


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).replace("|", "\\|")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "_no rows_"
    names = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(row.get(name)) for name in names) + " |" for row in rows]
    return "\n".join(lines)


def _schema(table: pa.Table) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(field.name, str(field.type)) for field in table.schema])


def table_metadata(session: WarehouseSession, table: str, where: str, params: Mapping[str, object],
                   totals: Mapping[str, str] | None = None, order_by: str = "1") -> dict[str, Any]:
    """Row count, column schema, totals and a markdown preview of the rows a run wrote.

    ``totals`` maps a label to a SQL aggregate over the same rows (e.g. ``SUM(cost_usd)``).
    """
    # Row count and totals in one scan of the rows; the preview is a top-N of the same rows.
    select = ", ".join(["COUNT(*) AS _row_count"]
                       + [f"{expression} AS {label}" for label, expression in (totals or {}).items()])
    values = session.rows(f"SELECT {select} FROM {table} WHERE {where}", params)[0]
    preview = session.query(f"SELECT * FROM {table} WHERE {where} ORDER BY {order_by} LIMIT {PREVIEW_ROWS}", params)
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(int(values.pop("_row_count") or 0)),
        "dagster/column_schema": _schema(preview),
        "table": dg.MetadataValue.text(table),
        "preview": dg.MetadataValue.md(markdown_table(preview.to_pylist())),
    }
    for label, value in values.items():
        metadata[label] = dg.MetadataValue.text(_cell(value) or "0")
    return metadata


def rows_check(check_name: str, rows: Sequence[Mapping[str, Any]], label: str, *,
               severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, failure: str | None = None,
               success: str | None = None, columns: Sequence[str] | None = None, asset_key: dg.AssetKey | None = None,
               metadata: Mapping[str, Any] | None = None) -> dg.AssetCheckResult:
    """The result of a check that passes when ``rows``, the rows that break it, is empty.

    The rows are shown as a table under ``label`` and counted under ``failing_rows`` (a number, so the
    check's history plots in the UI); ``failure`` / ``success`` describe the outcome in a sentence
    (by default: how many rows break it, and the first one).
    """
    if rows and failure is None:
        first = ", ".join(f"{name} {_cell(value)}" for name, value in rows[0].items())
        failure = f"{len(rows)} row(s) of {label.replace('_', ' ')}, the first: {first}"
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=check_name, passed=not rows, severity=severity,
        description=(failure if rows else success),
        metadata={"failing_rows": dg.MetadataValue.int(len(rows)),
                  label: dg.MetadataValue.md(markdown_table(rows, columns)), **(metadata or {})},
    )
