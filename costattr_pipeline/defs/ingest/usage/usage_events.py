"""``metering/usage_events``: product usage events, landed per day, and the 4-hourly usage ingest schedule."""

import datetime as dt

import dagster as dg

from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.defs.ingest.usage.external_api_costs import EXTERNAL_API_COSTS
from costattr_pipeline.defs.ingest.usage.window_landing import replace_window
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import DayRange, Project, current_project, range_schedule, window_dates
from costattr_pipeline.resources.usage import UsageSource
from costattr_pipeline.resources.warehouse import Warehouse

USAGE_EVENTS = dg.AssetKey(["metering", "usage_events"])
CHECK_USAGE_SOURCE_PRESENT = "usage_events_source_present"
CHECK_CONFLICTING_DUPLICATES = "no_conflicting_duplicate_events"

TABLES_SQL = sql_file(__file__, "usage_events__tables.sql")
LAND_USAGE_SQL = sql_file(__file__, "usage_events.sql")
# metering.usage_events_unique for one window of days: the same rows, without ranking the whole history.
UNIQUE_IN_WINDOW = {"metering.usage_events_unique": sql_file(__file__, "usage_events_unique__window.sql")}
CONFLICTS_SQL = sql_file(__file__, "usage_events__conflicting_duplicates.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"


def month_to_date(tick: dt.datetime, project: Project) -> DayRange:
    """From the first of the tick's month (or the partitions start) to the tick's day."""
    last = tick.date()
    return project.clip((last.replace(day=1), last))


def usage_events(context: dg.AssetExecutionContext, warehouse: Warehouse,
                 usage_source: UsageSource) -> dg.MaterializeResult:
    """Product usage events, landed per UTC day of event_time: locally from `usage/usage_events` (CSV or
    Parquet), in production read in place from the product's Snowflake table (settings.yaml `usage_source`,
    default `PRODUCT.METERING.USAGE_EVENTS`), validated there and copied inside Snowflake.

    Delivery is at-least-once, so an event_id may repeat: the view `metering.usage_events_unique`
    counts each event_id once (its earliest copy), across all landed days. Billing reads the view.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        events = usage_source.usage_events(session, start, end)  # validated: a bad row raises, nothing written
        replace_window(session, "metering.usage_events_staging", events, LAND_USAGE_SQL, params)
        conflicts = session.rows(CONFLICTS_SQL, params)
        metadata = partition_metadata(
            context, session, "metering.usage_events", USAGE_WINDOW, params, partition_column="usage_date",
            tables_sql=TABLES_SQL,
            figures={"distinct_events": "COUNT(DISTINCT event_id)",
                     "repeated_deliveries": "COUNT(*) - COUNT(DISTINCT event_id)",
                     "tenants": "COUNT(DISTINCT tenant_id)"},
            order_by="event_time, event_id")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK_USAGE_SOURCE_PRESENT, passed=events.count is not None,
                severity=dg.AssetCheckSeverity.WARN,
                description=None if events.count is not None else f"No {events.name}: no usage is billed.",
                metadata={"source_rows": dg.MetadataValue.int(events.count or 0)},
            ),
            rows_check(CHECK_CONFLICTING_DUPLICATES, conflicts, "conflicting_event_ids",
                       severity=dg.AssetCheckSeverity.WARN),
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_USAGE_SOURCE_PRESENT, asset=USAGE_EVENTS,
                      description="WARN when there is no usage_events file (or table): variable consumption is 0."),
    dg.AssetCheckSpec(CHECK_CONFLICTING_DUPLICATES, asset=USAGE_EVENTS,
                      description="WARN when one event_id was delivered with different content (tenant, module, "
                                  "metric or quantity): only the earliest copy counts."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=USAGE_EVENTS, group_name="ingest", kinds={"duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="usage", layer="landing"),
                     metadata=table_metadata(TABLES_SQL, "metering.usage_events"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(usage_events)
    job = dg.define_asset_job("usage_ingest", selection=[USAGE_EVENTS, EXTERNAL_API_COSTS],
                              description="Land usage events and external API costs for a range of days.")
    schedule = range_schedule(
        "usage_ingest_4h", "30 3-23/4 * * *", job, lambda tick: month_to_date(tick, project),
        "Every 4 hours (hh:30): land the month-to-date usage events and external API costs, before the "
        "provisional billing run at the next hour.")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
