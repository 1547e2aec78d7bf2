"""The code location: assembles every concern's definitions and the resources of the target.

No logic and no I/O at import: settings are read when Dagster loads the location.
"""

from __future__ import annotations

import warnings

import dagster as dg

from costattr_pipeline.defs import billing
from costattr_pipeline.defs import schedules
from costattr_pipeline.defs.alerts import sensors as alert_sensors
from costattr_pipeline.defs.attribution import snowflake_credits, unattributed
from costattr_pipeline.defs.ingest import cost_explorer, databricks, snowflake_usage
from costattr_pipeline.defs.project import Project
from costattr_pipeline.defs import unit_costs
from costattr_pipeline.lib.config import load_settings
from costattr_pipeline.resources.targets import resources_for
from costattr_pipeline.target import Target

# Single-run backfills are a deliberate choice (a year of days is one run); Dagster marks the
# parameter beta and would print one warning per asset at every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


def build_definitions(target: Target) -> dg.Definitions:
    project = Project(load_settings(target.config_dir))
    return dg.Definitions.merge(
        cost_explorer.build_defs(project),
        unattributed.build_defs(project),
        databricks.build_defs(project),
        billing.build_defs(project),
        schedules.build_defs(project),
        alert_sensors.build_defs(),
        unit_costs.build_defs(project),
        snowflake_usage.build_defs(project),
        snowflake_credits.build_defs(project),
        dg.Definitions(resources=resources_for(target, project.settings)),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Target.resolve())
