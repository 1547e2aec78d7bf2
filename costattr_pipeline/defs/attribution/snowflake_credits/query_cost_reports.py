"""The monthly Snowflake query-cost reports (recurring and hierarchical queries), and their daily schedule.

Both price each query's CREDITS_ATTRIBUTED_COMPUTE at the credit price in force on its day and
warehouse: that join is written once (``snowflake_priced_queries.sql``) and bound into both
reports as the relation ``priced_queries``.
"""

import datetime as dt
from typing import Any

import dagster as dg

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.attribution import OWNERS
from costattr_pipeline.defs.attribution.snowflake_credits.credit_prices import load_credit_prices
from costattr_pipeline.defs.attribution.snowflake_credits.credit_sql import (HIERARCHICAL_QUERY_COST_SQL,
                                                                           RECURRING_QUERY_COST_SQL, REPORT_TABLES_SQL,
                                                                           credit_relations)
from costattr_pipeline.defs.attribution.snowflake_credits.snowflake_credit_daily import (
    price_check, price_check_spec, provisional_range)
from costattr_pipeline.defs.ingest.snowflake_usage.snowflake_account_usage import SNOWFLAKE_ACCOUNT_USAGE
from costattr_pipeline.lib.snowflake_usage import TOP_RECURRING_QUERIES
from costattr_pipeline.metadata import asset_tags, partition_metadata, table_metadata
from costattr_pipeline.project import Project, current_project, month_key, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.snowflake_usage import SnowflakeUsageSource
from costattr_pipeline.resources.warehouse import Warehouse

RECURRING_QUERY_COST = dg.AssetKey(["metering", "snowflake_recurring_query_cost"])
HIERARCHICAL_QUERY_COST = dg.AssetKey(["metering", "snowflake_hierarchical_query_cost"])

MONTH_WINDOW = "month_start >= :start_date AND month_start < :end_date"


def report_months(tick: dt.datetime, project: Project) -> tuple[str, str]:
    """Monthly partition keys covering the credits' trailing days (the previous month too early in a month)."""
    first, last = provisional_range(tick, project)
    return month_key(first), month_key(last)


def _report(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
            snowflake_usage: SnowflakeUsageSource, key: dg.AssetKey, sql: str, extra: dict[str, Any],
            order_by: str, label: str) -> dg.MaterializeResult:
    """Replace the run's months of one report, with its price check and metadata."""
    start, end = window_dates(context)
    settings = config_files.settings()
    params = {"start_date": start, "end_date": end}
    table = f"metering.{key.path[-1]}"
    with warehouse.session() as session:
        relations = credit_relations(snowflake_usage.relations(session).mapping)
        session.execute(REPORT_TABLES_SQL)
        with session.transaction():
            load_credit_prices(session, settings.snowflake)
            session.execute(sql, {**params, **extra}, relations)
            blocking = audit(key, price_check(session, MONTH_WINDOW, params, table, label))
        metadata = partition_metadata(
            context, session, table, MONTH_WINDOW, params, partition_column="month_start",
            tables_sql=REPORT_TABLES_SQL,
            figures={"credits": "SUM(CAST(credits AS DECIMAL(38, 12)))",
                    "cost_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 6)))"},
            order_by=order_by,
        )
    return dg.MaterializeResult(metadata=metadata, check_results=blocking)


def snowflake_recurring_query_cost(context: dg.AssetExecutionContext, warehouse: Warehouse,
                                   config_files: CostattrConfig,
                                   snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
    """Cost of recurring queries, per calendar month: queries grouped by QUERY_PARAMETERIZED_HASH (the same
    statement with different literals), the most expensive kept and ranked.

    Credits are the queries' CREDITS_ATTRIBUTED_COMPUTE (idle time excluded), priced at the credit price
    in force on each query's day and warehouse.
    """
    return _report(context, warehouse, config_files, snowflake_usage, RECURRING_QUERY_COST,
                   RECURRING_QUERY_COST_SQL, {"top_n": TOP_RECURRING_QUERIES}, "month_start, cost_rank",
                   "month_start, query_parameterized_hash")


def snowflake_hierarchical_query_cost(context: dg.AssetExecutionContext, warehouse: Warehouse,
                                      config_files: CostattrConfig,
                                      snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
    """Cost of hierarchical queries, per calendar month: each stored procedure or script with the statements
    it ran, rolled up by ROOT_QUERY_ID (queries counted in the month they started).

    Only trees with at least one child query; credits are CREDITS_ATTRIBUTED_COMPUTE priced per query's
    day and warehouse.
    """
    return _report(context, warehouse, config_files, snowflake_usage, HIERARCHICAL_QUERY_COST,
                   HIERARCHICAL_QUERY_COST_SQL, {}, "month_start, cost_usd DESC NULLS LAST, root_query_id",
                   "month_start, root_query_id")


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    reports = [
        dg.asset(key=key, deps=[SNOWFLAKE_ACCOUNT_USAGE], group_name="reports", kinds={"snowflake", "duckdb"},
                 owners=OWNERS, tags=asset_tags(source="snowflake", layer="report"),
                 metadata=table_metadata(REPORT_TABLES_SQL, f"metering.{key.path[-1]}"),
                 partitions_def=project.monthly, backfill_policy=dg.BackfillPolicy.single_run(),
                 check_specs=[price_check_spec(key, subject)])(compute)
        for key, compute, subject in (
            (RECURRING_QUERY_COST, snowflake_recurring_query_cost, "a recurring query"),
            (HIERARCHICAL_QUERY_COST, snowflake_hierarchical_query_cost, "a query tree"))
    ]
    job = dg.define_asset_job("snowflake_query_reports", selection=[RECURRING_QUERY_COST, HIERARCHICAL_QUERY_COST],
                              description="Recompute the monthly recurring and hierarchical query costs.")
    schedule = range_schedule(
        "snowflake_query_reports_daily", "30 5 * * *", job, lambda tick: report_months(tick, project),
        "05:30 UTC: recompute the current month's query-cost reports (and the previous month's while its last "
        "days may still change).")
    return dg.Definitions(assets=reports, jobs=[job], schedules=[schedule])
