"""``metering/databricks_usage``: system.billing.usage and list_prices, landed (scheduled with the priced usage)."""

import datetime as dt

import dagster as dg

from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, table_metadata
from costattr_pipeline.project import DayRange, Project, current_project, window_dates
from costattr_pipeline.resources.databricks import LIST_PRICES_RELATION, USAGE_RELATION, DatabricksBillingSource
from costattr_pipeline.resources.warehouse import Warehouse

DATABRICKS_USAGE = dg.AssetKey(["metering", "databricks_usage"])
CHECK_SOURCE_PRESENT = "databricks_source_present"

TABLES_SQL = sql_file(__file__, "databricks_usage__tables.sql")
UPSERT_LIST_PRICES_SQL = sql_file(__file__, "databricks_usage__list_prices.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"


def recompute_days(tick: dt.datetime, project: Project) -> DayRange:
    """The previous month's first day up to the tick's day (inclusive), clipped to ``partitions_start``.

    Databricks delivers usage within about 12 hours and restates it later, so the current and the
    previous month are recomputed every day.
    """
    today = tick.date()
    previous_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return project.clip((previous_month, today))


def databricks_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     databricks_billing: DatabricksBillingSource) -> dg.MaterializeResult:
    """Databricks `system.billing.usage` records of the run's days (by usage_date), replaced on every run so
    restatements and retractions delivered later are picked up, and `system.billing.list_prices` upserted by
    (SKU, cloud, account, currency, price_start_time).

    Locally read from `<source>/databricks/usage` and `list_prices` (CSV or Parquet); in production queried
    on a Databricks SQL warehouse. Every row is validated before anything is written.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        with session.local_engine() as engine:
            staged = databricks_billing.stage(engine, start, end, context.log)  # validated: nothing written yet
            with session.transaction():
                # The window is replaced: restatements and retractions delivered later are picked up.
                session.execute(f"DELETE FROM metering.databricks_usage WHERE {USAGE_WINDOW}", params)
                session.execute("DELETE FROM metering.databricks_list_prices_staging")
                if staged.usage_found:
                    session.insert_from_local(engine, "metering.databricks_usage", f"SELECT * FROM {USAGE_RELATION}")
                if staged.list_prices_found:
                    session.insert_from_local(engine, "metering.databricks_list_prices_staging",
                                              f"SELECT * FROM {LIST_PRICES_RELATION}")
                session.execute(UPSERT_LIST_PRICES_SQL)
        metadata = partition_metadata(
            context, session, "metering.databricks_usage", USAGE_WINDOW, params, partition_column="usage_date",
            tables_sql=TABLES_SQL,
            figures={"usage_quantity": "SUM(CAST(usage_quantity AS DECIMAL(38, 18)))",
                    "retraction_records": "SUM(CASE WHEN record_type = 'RETRACTION' THEN 1 ELSE 0 END)"},
            order_by="usage_date, record_id",
        )
        metadata["list_prices"] = dg.MetadataValue.int(
            int(session.scalar("SELECT COUNT(*) FROM metering.databricks_list_prices") or 0))
    missing = [name for name, found in (("usage", staged.usage_found), ("list_prices", staged.list_prices_found))
               if not found]
    metadata["source"] = dg.MetadataValue.text(staged.source)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[dg.AssetCheckResult(
            check_name=CHECK_SOURCE_PRESENT, passed=not missing, severity=dg.AssetCheckSeverity.WARN,
            description=f"Missing Databricks source(s): {', '.join(missing)} in {staged.source}" if missing else None,
            metadata={"missing": dg.MetadataValue.text(", ".join(missing) or "none")},
        )],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_SOURCE_PRESENT, asset=DATABRICKS_USAGE,
                      description="WARN when the usage or list price source is missing: the Databricks outputs are "
                                  "empty (or unpriced), not wrong."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=DATABRICKS_USAGE, group_name="ingest", kinds={"databricks", "duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="databricks", layer="landing"),
                     metadata=table_metadata(TABLES_SQL, "metering.databricks_usage"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(databricks_usage)
    return dg.Definitions(assets=[asset])
