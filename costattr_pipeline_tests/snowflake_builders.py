"""Builders for Snowflake ACCOUNT_USAGE rows: into a warehouse session, or as export files."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from costattr_pipeline.lib.snowflake_usage import USAGE_VIEWS
from costattr_pipeline.defs.ingest.snowflake_usage.snowflake_account_usage import TABLES_SQL as LANDING_TABLES_SQL
from costattr_pipeline.resources.snowflake_usage import UsageRelations
from costattr_pipeline.resources.warehouse import WarehouseSession

LANDED = UsageRelations("landing.snowflake_warehouse_metering_history",
                        "landing.snowflake_query_attribution_history", "landing.snowflake_tag_references")


@dataclass(frozen=True)
class Metered:
    start_time: str          # "2026-03-01 10:00"
    warehouse_name: str
    credits: str
    cloud_services: str | None = None
    warehouse_id: int | None = None


@dataclass(frozen=True)
class Query:
    query_id: str
    warehouse_name: str
    credits: str
    start_time: str = "2026-03-01 10:05"
    user_name: str | None = "ANALYST"
    query_tag: str | None = None
    query_parameterized_hash: str | None = None
    root_query_id: str | None = None
    acceleration: str | None = None
    warehouse_id: int | None = None


@dataclass(frozen=True)
class Tag:
    object_name: str
    tag_value: str
    domain: str = "WAREHOUSE"
    object_deleted: str | None = None
    tag_name: str = "TENANT_ID"
    object_id: int | None = None
    tag_database: str | None = None
    tag_schema: str | None = None


def _ts(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _credits(values: Sequence[str | None]) -> pa.Array:
    return pa.array([None if value is None else Decimal(value) for value in values], pa.decimal128(38, 12))


def usage_tables(metered: Sequence[Metered], queries: Sequence[Query], tags: Sequence[Tag]) -> dict[str, pa.Table]:
    return {
        "warehouse_metering_history": pa.table({
            "start_time": pa.array([_ts(row.start_time) for row in metered], pa.timestamp("us")),
            "end_time": pa.array([_ts(row.start_time) + dt.timedelta(hours=1) for row in metered], pa.timestamp("us")),
            "warehouse_id": pa.array([row.warehouse_id for row in metered], pa.int64()),
            "warehouse_name": pa.array([row.warehouse_name for row in metered], pa.string()),
            "credits_used_compute": _credits([row.credits for row in metered]),
            "credits_used_cloud_services": _credits([row.cloud_services for row in metered]),
        }),
        "query_attribution_history": pa.table({
            "query_id": pa.array([row.query_id for row in queries], pa.string()),
            "root_query_id": pa.array([row.root_query_id for row in queries], pa.string()),
            "warehouse_id": pa.array([row.warehouse_id for row in queries], pa.int64()),
            "warehouse_name": pa.array([row.warehouse_name for row in queries], pa.string()),
            "query_parameterized_hash": pa.array([row.query_parameterized_hash for row in queries], pa.string()),
            "query_tag": pa.array([row.query_tag for row in queries], pa.string()),
            "user_name": pa.array([row.user_name for row in queries], pa.string()),
            "start_time": pa.array([_ts(row.start_time) for row in queries], pa.timestamp("us")),
            "end_time": pa.array([_ts(row.start_time) + dt.timedelta(minutes=1) for row in queries],
                                 pa.timestamp("us")),
            "credits_attributed_compute": _credits([row.credits for row in queries]),
            "credits_used_query_acceleration": _credits([row.acceleration for row in queries]),
        }),
        "tag_references": pa.table({
            "tag_database": pa.array([row.tag_database for row in tags], pa.string()),
            "tag_schema": pa.array([row.tag_schema for row in tags], pa.string()),
            "object_id": pa.array([row.object_id for row in tags], pa.int64()),
            "tag_name": pa.array([row.tag_name for row in tags], pa.string()),
            "tag_value": pa.array([row.tag_value for row in tags], pa.string()),
            "object_name": pa.array([row.object_name for row in tags], pa.string()),
            "domain": pa.array([row.domain for row in tags], pa.string()),
            "object_deleted": pa.array([_ts(row.object_deleted) for row in tags], pa.timestamp("us")),
        }),
    }


def create_usage_relations(session: WarehouseSession, schema: str = "landing") -> UsageRelations:
    """The three ACCOUNT_USAGE relations as empty tables in ``schema`` (the landing layout)."""
    if schema == "landing":
        session.execute(LANDING_TABLES_SQL)
        return LANDED
    session.execute(LANDING_TABLES_SQL.replace("CREATE SCHEMA IF NOT EXISTS landing", f"CREATE SCHEMA IF NOT EXISTS {schema}")
                    .replace("landing.snowflake_", f"{schema}."))
    return UsageRelations(f"{schema}.warehouse_metering_history", f"{schema}.query_attribution_history",
                          f"{schema}.tag_references")


def insert_usage(session: WarehouseSession, relations: UsageRelations, metered: Sequence[Metered] = (),
                 queries: Sequence[Query] = (), tags: Sequence[Tag] = ()) -> None:
    for view, rows in usage_tables(metered, queries, tags).items():
        session.insert_arrow(getattr(relations, view), rows)


def write_exports(source_dir: Path, metered: Sequence[Metered] = (), queries: Sequence[Query] = (),
                  tags: Sequence[Tag] = (), file_format: str = "csv") -> None:
    """The rows as CSV (or Parquet) exports with Snowflake's upper-case column names (contract 2.2)."""
    folder = Path(source_dir) / "snowflake"
    folder.mkdir(parents=True, exist_ok=True)
    tables = usage_tables(metered, queries, tags)
    for view in USAGE_VIEWS:
        rows = tables[view.name]
        for column in view.columns:  # every column of the contract's list, empty when a case does not need it
            if column.name.lower() not in rows.column_names:
                rows = rows.append_column(column.name.lower(), pa.nulls(rows.num_rows, pa.string()))
        for stale in (folder / f"{view.name}.csv", folder / f"{view.name}.parquet"):
            stale.unlink(missing_ok=True)
        if file_format == "parquet":
            pq.write_table(rows.rename_columns([name.upper() for name in rows.column_names]),
                           folder / f"{view.name}.parquet")
            continue
        with (folder / f"{view.name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([name.upper() for name in rows.column_names])
            for row in rows.to_pylist():
                writer.writerow(["" if value is None else value for value in row.values()])
