"""Billing cadence, in UTC: the open period every 4 hours (provisional), the closed one on the 3rd.

Usage and external API costs of the month so far are landed at hh:30 before each 4-hourly
billing run, so a provisional bill is at most ~4.5 hours behind the usage it reports.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from costattr_pipeline.defs.billing.assets import BILLING_PERIOD_SUMMARY, UNIT_ECONOMICS
from costattr_pipeline.defs.ingest.usage.assets import EXTERNAL_API_COSTS, USAGE_EVENTS
from costattr_pipeline.defs.project import Project

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Cost Explorer restates the last 24-48 h: a month's final bill waits until the 3rd.
CLOSE_DAY = 3


def open_period(scheduled_for: dt.datetime) -> str:
    """Partition key of the billing period the tick falls in (the provisional one)."""
    return scheduled_for.date().replace(day=1).isoformat()


def closed_period(scheduled_for: dt.datetime) -> str:
    """Partition key of the period before the tick's month (the one being closed)."""
    return (scheduled_for.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1).isoformat()


def month_to_date(scheduled_for: dt.datetime, project: Project) -> tuple[str, str]:
    """Daily partition keys from the first of the tick's month (or the partitions start) to the tick's day."""
    last = scheduled_for.date()
    first = max(last.replace(day=1), project.settings.partitions_start)
    return first.isoformat(), last.isoformat()


def build_defs(project: Project) -> dg.Definitions:
    usage_job = dg.define_asset_job("usage_ingest", selection=[USAGE_EVENTS, EXTERNAL_API_COSTS],
                                    description="Land usage events and external API costs for a range of days.")
    billing_job = dg.define_asset_job("billing", selection=[BILLING_PERIOD_SUMMARY, UNIT_ECONOMICS],
                                      description="Compute the bills and unit economics of a billing period.")

    @dg.schedule(name="usage_ingest_4h", cron_schedule="30 3-23/4 * * *", job=usage_job, execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Every 4 hours (hh:30): land the month-to-date usage events and external API costs.")
    def usage_ingest_4h(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = month_to_date(context.scheduled_execution_time, project)
        return dg.RunRequest(run_key=f"usage_ingest_4h:{context.scheduled_execution_time.isoformat()}",
                             tags={RANGE_START_TAG: first, RANGE_END_TAG: last})

    @dg.schedule(name="billing_provisional_4h", cron_schedule="0 */4 * * *", job=billing_job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Every 4 hours: recompute the open (provisional) period's bills and margins.")
    def billing_provisional_4h(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        key = open_period(context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"billing_provisional_4h:{context.scheduled_execution_time.isoformat()}",
                             partition_key=key)

    @dg.schedule(name="billing_close_monthly", cron_schedule=f"0 10 {CLOSE_DAY} * *", job=billing_job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="10:00 UTC on the 3rd: final bills of the previous month, after Cost Explorer's "
                             "restatements.")
    def billing_close_monthly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        key = closed_period(context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"billing_close_monthly:{key}", partition_key=key)

    return dg.Definitions(jobs=[usage_job, billing_job],
                          schedules=[usage_ingest_4h, billing_provisional_4h, billing_close_monthly])
