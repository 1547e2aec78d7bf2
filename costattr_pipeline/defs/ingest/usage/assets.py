"""``metering/usage_events`` and ``metering/external_api_costs``: product metering, landed per day."""


import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from costattr_pipeline.defs.metadata import markdown_table, table_metadata
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.usage import UsageExports
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

USAGE_EVENTS = dg.AssetKey(["metering", "usage_events"])
EXTERNAL_API_COSTS = dg.AssetKey(["metering", "external_api_costs"])
CHECK_USAGE_SOURCE_PRESENT = "usage_events_source_present"
CHECK_CONFLICTING_DUPLICATES = "no_conflicting_duplicate_events"
CHECK_EXTERNAL_SOURCE_PRESENT = "external_api_costs_source_present"

TABLES_SQL = sql_file(__file__, "tables.sql")
LAND_USAGE_SQL = sql_file(__file__, "land_usage_events.sql")
LAND_EXTERNAL_SQL = sql_file(__file__, "land_external_api_costs.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"
COST_WINDOW = "cost_date >= :start_date AND cost_date < :end_date"

# The same event_id delivered with different content: only the earliest copy counts. Copies are rare,
# so the ids seen more than once are found first and only their contents compared (building the
# content of every one of a year's 2 M events cost more than the rest of the check).
CONFLICTS_SQL = f"""
WITH repeated AS (
    SELECT event_id
    FROM metering.usage_events
    WHERE event_id IN (SELECT event_id FROM metering.usage_events WHERE {USAGE_WINDOW})
    GROUP BY event_id
    HAVING COUNT(*) > 1
)
SELECT event_id, COUNT(*) AS copies
FROM metering.usage_events
WHERE event_id IN (SELECT event_id FROM repeated)
GROUP BY event_id
HAVING COUNT(DISTINCT tenant_id || '|' || COALESCE(module_id, '') || '|' || metric || '|'
                      || CAST(quantity AS VARCHAR)) > 1
ORDER BY event_id
LIMIT 20"""


def _replace_window(session: WarehouseSession, staging: str, rows: pa.Table | None, land_sql: str,
                    params: dict) -> None:
    """Stage the validated rows (none: the file is absent) and replace the window's rows from them,
    in one transaction: a failure leaves the landed days as they were."""
    with session.transaction():
        session.execute(f"DELETE FROM {staging}")
        if rows is not None:
            session.insert_arrow(staging, rows)
        session.execute(land_sql, params)


def build_defs(project: Project) -> dg.Definitions:
    @dg.asset(
        key=USAGE_EVENTS,
        group_name="ingest",
        kinds={"duckdb", "snowflake"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Product usage events from `usage/usage_events` (CSV or Parquet), landed per UTC day of event_time. "
            "Delivery is at-least-once, so an event_id may repeat: the view `metering.usage_events_unique` "
            "counts each event_id once (its earliest copy), across all landed days. Billing reads the view."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_USAGE_SOURCE_PRESENT, asset=USAGE_EVENTS,
                              description="WARN when there is no usage_events file: variable consumption is 0."),
            dg.AssetCheckSpec(CHECK_CONFLICTING_DUPLICATES, asset=USAGE_EVENTS,
                              description="WARN when one event_id was delivered with different content "
                                          "(tenant, module, metric or quantity): only the earliest copy counts."),
        ],
    )
    def usage_events(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     usage_exports: UsageExports) -> dg.MaterializeResult:
        start, end = window_dates(context)
        events, name = usage_exports.usage_events()
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            staged = (None if events is None
                      else events.append_column("usage_date", pc.cast(events["event_time"], pa.date32())))
            _replace_window(session, "metering.usage_events_staging", staged, LAND_USAGE_SQL, params)
            conflicts = session.rows(CONFLICTS_SQL, params)
            metadata = table_metadata(
                session, "metering.usage_events", USAGE_WINDOW, params,
                totals={"distinct_events": "COUNT(DISTINCT event_id)",
                        "repeated_deliveries": "COUNT(*) - COUNT(DISTINCT event_id)"},
                order_by="event_time, event_id",
            )
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_USAGE_SOURCE_PRESENT, passed=events is not None,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=None if events is not None else f"No {name}.csv/.parquet: no usage is billed.",
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_CONFLICTING_DUPLICATES, passed=not conflicts,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"conflicting_event_ids": dg.MetadataValue.md(markdown_table(conflicts))},
                ),
            ],
        )

    @dg.asset(
        key=EXTERNAL_API_COSTS,
        group_name="ingest",
        kinds={"duckdb", "snowflake"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Third-party API costs (USD) from `usage/external_api_costs`, landed per cost_date. They are part of "
            "each tenant's cost (daily tenant summary, resource type `external_api`) and are passed through to "
            "the tenant's bill with the rate card's markup. tenant_id NULL: no tenant caused the cost."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_EXTERNAL_SOURCE_PRESENT, asset=EXTERNAL_API_COSTS,
                              description="WARN when there is no external_api_costs file: pass-through is 0."),
        ],
    )
    def external_api_costs(context: dg.AssetExecutionContext, warehouse: Warehouse,
                           usage_exports: UsageExports) -> dg.MaterializeResult:
        start, end = window_dates(context)
        costs, name = usage_exports.external_api_costs()
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            _replace_window(session, "metering.external_api_costs_staging", costs, LAND_EXTERNAL_SQL, params)
            metadata = table_metadata(
                session, "metering.external_api_costs", COST_WINDOW, params,
                totals={"total_usd": "SUM(CAST(amount AS DECIMAL(38, 12)))"},
                order_by="cost_date, tenant_id NULLS FIRST, provider",
            )
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_EXTERNAL_SOURCE_PRESENT, passed=costs is not None,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=None if costs is not None else f"No {name}.csv/.parquet: pass-through is 0.",
                ),
            ],
        )

    return dg.Definitions(assets=[usage_events, external_api_costs])
