"""Daily cadence of the pipeline, in UTC.

Cost Explorer restates the last 24-48 h, so each daily run covers yesterday and
the two days before it as one single-run range; the unattributed monitor follows
two hours later over the same range.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from costattr_pipeline.defs.attribution.unattributed.assets import UNATTRIBUTED_COSTS
from costattr_pipeline.defs.ingest.cost_explorer.assets import AWS_COST_DAILY
from costattr_pipeline.defs.project import Project

REFETCH_DAYS = 2
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def trailing_range(scheduled_for: dt.datetime, project: Project, days: int = REFETCH_DAYS + 1) -> tuple[str, str]:
    """Partition keys of the ``days`` complete days before the tick (inclusive range), clipped to the start."""
    last = scheduled_for.date() - dt.timedelta(days=1)
    first = max(last - dt.timedelta(days=days - 1), project.settings.partitions_start)
    return first.isoformat(), last.isoformat()


def _range_schedule(name: str, cron: str, job: dg.UnresolvedAssetJobDefinition, project: Project,
                    description: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=name, cron_schedule=cron, job=job, execution_timezone="UTC", description=description,
                 default_status=dg.DefaultScheduleStatus.STOPPED)
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = trailing_range(context.scheduled_execution_time, project)
        return dg.RunRequest(run_key=f"{name}:{first}:{last}",
                             tags={RANGE_START_TAG: first, RANGE_END_TAG: last})

    return _schedule


def build_defs(project: Project) -> dg.Definitions:
    landing_job = dg.define_asset_job("cost_explorer_landing", selection=[AWS_COST_DAILY],
                                      description="Land Cost Explorer fetches for a range of days.")
    monitor_job = dg.define_asset_job("unattributed_monitor", selection=[UNATTRIBUTED_COSTS],
                                      description="Recompute the unattributed share and alert on breaches.")
    return dg.Definitions(
        jobs=[landing_job, monitor_job],
        schedules=[
            _range_schedule("cost_explorer_daily", "0 6 * * *", landing_job, project,
                            "06:00 UTC: land yesterday's Cost Explorer cost and refetch the 2 days before "
                            "(Cost Explorer restates the last 24-48 h)."),
            _range_schedule("unattributed_monitor_daily", "0 8 * * *", monitor_job, project,
                            "08:00 UTC: recompute the unattributed share for the same 3 days and alert."),
        ],
    )
