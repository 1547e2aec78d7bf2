"""``metering/unit_cost_allocation`` and ``metering/unit_cost_tags`` (daily), and the 4-hourly cost roll-up schedule.

The roll-up runs at hh:45, after the Snowflake (hh:00) and usage (hh:30) refreshes and before the
next provisional billing run (hh:00), over the previous and the current month, because Databricks
and Cost Explorer restate recent days.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import dagster as dg
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import DAILY_TENANT_SUMMARY
from costattr_pipeline.defs.ingest.databricks.databricks_usage import recompute_days
from costattr_pipeline.defs.unit_costs import OWNERS
from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.money import round_cents, split_cents, to_cents
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.lib.usage_sources import read_unit_drivers
from costattr_pipeline.lib.unit_costs import (UnitType, category, driver_shares, in_force_on, load_unit_costs,
                                              tag_string)
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.source_files import SourceFiles
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

UNIT_COST_ALLOCATION = dg.AssetKey(["metering", "unit_cost_allocation"])
UNIT_COST_TAGS = dg.AssetKey(["metering", "unit_cost_tags"])
CHECK_PARTS_SUM_TO_POOL = "unit_parts_sum_to_pool"
CHECK_DRIVERS_PRESENT = "unit_drivers_present"

TABLES_SQL = sql_file(__file__, "unit_cost_allocation__tables.sql")
POOLS_SQL = sql_file(__file__, "unit_cost_allocation__pools.sql")
DRIVERS_SQL = sql_file(__file__, "unit_cost_allocation__drivers.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"

ALLOCATION_SCHEMA = pa.schema([("cost_date", pa.date32()), ("unit_type", pa.string()), ("unit_item", pa.string()),
                               ("share", pa.decimal128(38, 18)), ("allocated_cost_usd", pa.decimal128(18, 2)),
                               ("pool_cost_usd", pa.decimal128(18, 2)), ("split_basis", pa.string())])
TAGS_SCHEMA = pa.schema([("cost_date", pa.date32()), ("unit_type", pa.string()), ("category", pa.string()),
                         ("tag", pa.string())])


def _split_day(day: dt.date, pool: Decimal, unit_type: UnitType, drivers: dict[str, Decimal]
               ) -> tuple[list[dict], dict[str, Decimal]] | None:
    """The rows of one unit type on one day, and the shares used; None when drivers are missing."""
    if unit_type.is_driver_based:
        if not drivers or sum(drivers.values()) <= 0:
            return None
        shares = driver_shares(drivers)
        weights = drivers
    else:
        shares = dict(unit_type.items or {})
        weights = shares
    cents = split_cents(to_cents(pool), weights)
    rows = [{"cost_date": day, "unit_type": unit_type.unit_type, "unit_item": item,
             "share": shares[item].quantize(Decimal("1e-18")), "allocated_cost_usd": Decimal(cents[item]) / 100,
             "pool_cost_usd": pool, "split_basis": "unit_drivers" if unit_type.is_driver_based else "items"}
            for item in sorted(shares)]
    return rows, shares


def _allocate(session: WarehouseSession, unit_types: list[UnitType], params: dict, prefix: str
              ) -> tuple[list[dict], list[dict], list[dict]]:
    """Allocation rows, tag rows and the (day, unit type) pairs that lacked drivers.

    The heavy work (summing the day's cost, the drivers) is SQL; what is left is a few
    rows per day and unit type, split with the project's one largest-remainder function.
    """
    pools = {row["cost_date"]: round_cents(Decimal(row["whole_cost_usd"]))
             for row in session.rows(POOLS_SQL, params)}
    drivers: dict[tuple[dt.date, str], dict[str, Decimal]] = defaultdict(dict)
    for row in session.rows(DRIVERS_SQL, params):
        drivers[(row["driver_date"], row["unit_type"])][row["unit_item"]] = Decimal(row["driver_value"])
    allocations, tags, missing = [], [], []
    for day, pool in sorted(pools.items()):
        for unit_type in in_force_on(unit_types, day):
            split = _split_day(day, pool, unit_type, drivers.get((day, unit_type.unit_type), {}))
            if split is None:
                missing.append({"cost_date": day, "unit_type": unit_type.unit_type})
                continue
            rows, shares = split
            allocations += rows
            tags.append({"cost_date": day, "unit_type": unit_type.unit_type,
                         "category": category(prefix, unit_type.unit_type), "tag": tag_string(shares)})
    return allocations, tags, missing


def unit_costs(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
               source_files: SourceFiles):
    """Split each day's whole cost across the items of every unit type in force, and write the tag strings."""
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    unit_types = load_unit_costs(config_files.path)
    prefix = config_files.settings().unit_costs.category_prefix
    driver_rows = read_unit_drivers(source_files.path, (start, end))
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        with session.transaction():
            session.execute("DELETE FROM landing.unit_drivers WHERE driver_date >= :start_date "
                            "AND driver_date < :end_date", params)
            if driver_rows is not None:
                session.insert_arrow("landing.unit_drivers", driver_rows)  # the window's rows only
            allocations, tags, missing = _allocate(session, unit_types, params, prefix)
            session.execute(f"DELETE FROM metering.unit_cost_allocation WHERE {WINDOW}", params)
            session.execute(f"DELETE FROM metering.unit_cost_tags WHERE {WINDOW}", params)
            session.insert_arrow("metering.unit_cost_allocation",
                                 arrow_tables.from_rows(allocations, ALLOCATION_SCHEMA))
            session.insert_arrow("metering.unit_cost_tags", arrow_tables.from_rows(tags, TAGS_SCHEMA))
            mismatches = session.rows(f"""
                SELECT cost_date, unit_type, MIN(pool_cost_usd) AS pool_cost_usd,
                       SUM(CAST(allocated_cost_usd AS DECIMAL(18, 2))) AS allocated
                FROM metering.unit_cost_allocation WHERE {WINDOW}
                GROUP BY cost_date, unit_type
                HAVING SUM(CAST(allocated_cost_usd AS DECIMAL(18, 2))) <> MIN(pool_cost_usd)
                    OR MIN(pool_cost_usd) <> MAX(pool_cost_usd)
                ORDER BY cost_date, unit_type LIMIT 20""", params)
            parts_sum = audit(UNIT_COST_ALLOCATION, rows_check(CHECK_PARTS_SUM_TO_POOL, mismatches, "mismatches",
                                                               asset_key=UNIT_COST_ALLOCATION))
        allocation_metadata = partition_metadata(
            context, session, "metering.unit_cost_allocation", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, asset_key=UNIT_COST_ALLOCATION,
            figures={"allocated_cost_usd": "SUM(CAST(allocated_cost_usd AS DECIMAL(18, 2)))",
                     "unit_types": "COUNT(DISTINCT unit_type)"},
            order_by="cost_date, unit_type, unit_item")
        tags_metadata = partition_metadata(
            context, session, "metering.unit_cost_tags", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, asset_key=UNIT_COST_TAGS, order_by="cost_date, unit_type")
    yield dg.MaterializeResult(asset_key=UNIT_COST_ALLOCATION, metadata=allocation_metadata)
    yield dg.MaterializeResult(asset_key=UNIT_COST_TAGS, metadata=tags_metadata)
    yield from parts_sum
    yield rows_check(CHECK_DRIVERS_PRESENT, missing, "days_without_drivers", asset_key=UNIT_COST_ALLOCATION,
                     severity=dg.AssetCheckSeverity.WARN,
                     failure=f"{len(missing)} day(s) of driver-based unit types without drivers",
                     success="Every driver-based unit type had drivers")


SPECS = [
    dg.AssetSpec(UNIT_COST_ALLOCATION, deps=[DAILY_TENANT_SUMMARY], group_name="unit_costs",
                 kinds={"duckdb", "snowflake"}, owners=OWNERS, tags=asset_tags(source="all", layer="attribution"),
                 metadata=table_metadata(TABLES_SQL, "metering.unit_cost_allocation"),
                 description=(
                     "Each day's pool (the whole cost of metering.daily_tenant_summary, rounded to cents) "
                     "split across the items of every unit type in force that day (unit_costs.yaml): by "
                     "fixed shares, or by that day's usage/unit_drivers values over their total. Parts are "
                     "cents by largest remainder, so each unit type's parts add up to the pool exactly; "
                     "the share used is stored with each row.")),
    dg.AssetSpec(UNIT_COST_TAGS, deps=[UNIT_COST_ALLOCATION], group_name="unit_costs",
                 kinds={"duckdb", "snowflake"}, owners=OWNERS, tags=asset_tags(source="all", layer="attribution"),
                 metadata=table_metadata(TABLES_SQL, "metering.unit_cost_tags"),
                 description=(
                     "Per day and unit type, the category `<prefix>:<UnitType>` and the tag string "
                     "`item:share|...` (items sorted by name, shares with 10 decimals), e.g. "
                     "`octo:0.3000000000|ripple:0.5000000000|wave:0.2000000000|`.")),
]
CHECKS = [
    dg.AssetCheckSpec(CHECK_PARTS_SUM_TO_POOL, asset=UNIT_COST_ALLOCATION, blocking=True,
                      description="ERROR unless, per day and unit type, the allocated cents add up "
                                  "to the pool exactly."),
    dg.AssetCheckSpec(CHECK_DRIVERS_PRESENT, asset=UNIT_COST_ALLOCATION,
                      description="WARN when a driver-based unit type has no unit_drivers rows (or a "
                                  "zero total) on a day it is in force: that day is not split for it."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.multi_asset(specs=SPECS, check_specs=CHECKS, partitions_def=project.daily,
                           backfill_policy=dg.BackfillPolicy.single_run())(unit_costs)
    job = dg.define_asset_job(
        "cost_rollup", selection=[DAILY_TENANT_SUMMARY, UNIT_COST_ALLOCATION, UNIT_COST_TAGS],
        description="Recompute the daily tenant summary and the unit-cost splits for a range of days.")
    schedule = range_schedule(
        "cost_rollup_4h", "45 3-23/4 * * *", job, lambda tick: recompute_days(tick, project),
        "Every 4 hours (hh:45): daily tenant summary and unit-cost splits of the previous and the current "
        "month, one run.")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
