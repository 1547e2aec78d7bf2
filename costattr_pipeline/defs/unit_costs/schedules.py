"""The cost roll-up: the daily tenant summary and the unit-cost splits, every 4 hours.

It runs at hh:45, after the Snowflake (hh:00) and usage (hh:30) refreshes and before
the next provisional billing run (hh:00), over the previous and the current month,
because Databricks and Cost Explorer restate recent days.
"""

import dagster as dg

from costattr_pipeline.defs.attribution.tenant_summary.assets import DAILY_TENANT_SUMMARY
from costattr_pipeline.defs.ingest.databricks.assets import recompute_days
from costattr_pipeline.defs.project import Project
from costattr_pipeline.defs.schedules import RANGE_END_TAG, RANGE_START_TAG
from costattr_pipeline.defs.unit_costs.assets import UNIT_COST_ALLOCATION, UNIT_COST_TAGS

COST_ROLLUP_SCHEDULE = "cost_rollup_4h"


def build_defs(project: Project) -> dg.Definitions:
    job = dg.define_asset_job("cost_rollup", selection=[DAILY_TENANT_SUMMARY, UNIT_COST_ALLOCATION, UNIT_COST_TAGS],
                              description="Recompute the daily tenant summary and the unit-cost splits for a range "
                                          "of days.")

    @dg.schedule(name=COST_ROLLUP_SCHEDULE, cron_schedule="45 3-23/4 * * *", job=job, execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Every 4 hours (hh:45): daily tenant summary and unit-cost splits of the previous "
                             "and the current month, one run.")
    def cost_rollup_4h(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = recompute_days(context.scheduled_execution_time, project)
        return dg.RunRequest(run_key=f"{COST_ROLLUP_SCHEDULE}:{context.scheduled_execution_time.isoformat()}",
                             tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()})

    return dg.Definitions(jobs=[job], schedules=[cost_rollup_4h])
