"""Cadence of the Snowflake assets, in UTC.

ACCOUNT_USAGE lags 1-3 h (QUERY_ATTRIBUTION_HISTORY up to 8 h), so every 4 hours the views are
landed again and the credits recomputed for today (provisional) and the two days before it, as one single-run range: a late query or
metering row lands in its day on a later tick. The monthly query-cost reports follow once a day.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from costattr_pipeline.defs.attribution.snowflake_credits.assets import (
    HIERARCHICAL_QUERY_COST,
    RECURRING_QUERY_COST,
    SNOWFLAKE_CREDIT_DAILY,
)
from costattr_pipeline.defs.ingest.snowflake_usage import SNOWFLAKE_ACCOUNT_USAGE
from costattr_pipeline.defs.project import Project

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
TRAILING_DAYS = 3  # today and the two days before


def provisional_range(scheduled_for: dt.datetime, project: Project, days: int = TRAILING_DAYS) -> tuple[str, str]:
    """Daily partition keys from ``days - 1`` days before the tick's day to the tick's day itself (inclusive)."""
    last = scheduled_for.astimezone(dt.timezone.utc).date()
    first = max(last - dt.timedelta(days=days - 1), project.settings.partitions_start)
    return first.isoformat(), last.isoformat()


def report_months(scheduled_for: dt.datetime, project: Project, days: int = TRAILING_DAYS) -> tuple[str, str]:
    """Monthly partition keys covering the same trailing days (the previous month too early in a month)."""
    first, last = provisional_range(scheduled_for, project, days)
    return (dt.date.fromisoformat(first).replace(day=1).isoformat(),
            dt.date.fromisoformat(last).replace(day=1).isoformat())


def build_defs(project: Project) -> dg.Definitions:
    credits_job = dg.define_asset_job("snowflake_credits", selection=[SNOWFLAKE_ACCOUNT_USAGE, SNOWFLAKE_CREDIT_DAILY],
                                      description="Attribute Snowflake credits to tenants for a range of days.")
    reports_job = dg.define_asset_job("snowflake_query_reports",
                                      selection=[RECURRING_QUERY_COST, HIERARCHICAL_QUERY_COST],
                                      description="Recompute the monthly recurring and hierarchical query costs.")

    @dg.schedule(name="snowflake_credits_every_4_hours", cron_schedule="0 */4 * * *", job=credits_job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Every 4 hours: recompute today's (provisional) credits and the two days before.")
    def credits_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = provisional_range(context.scheduled_execution_time, project)
        tick = context.scheduled_execution_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H")
        return dg.RunRequest(run_key=f"snowflake_credits:{tick}",
                             tags={RANGE_START_TAG: first, RANGE_END_TAG: last})

    @dg.schedule(name="snowflake_query_reports_daily", cron_schedule="30 5 * * *", job=reports_job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="05:30 UTC: recompute the current month's query-cost reports (and the previous "
                             "month's while its last days may still change).")
    def reports_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = report_months(context.scheduled_execution_time, project)
        tick = context.scheduled_execution_time.astimezone(dt.timezone.utc).date().isoformat()
        return dg.RunRequest(run_key=f"snowflake_query_reports:{tick}",
                             tags={RANGE_START_TAG: first, RANGE_END_TAG: last})

    return dg.Definitions(jobs=[credits_job, reports_job], schedules=[credits_schedule, reports_schedule])
