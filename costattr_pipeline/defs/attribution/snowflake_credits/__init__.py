"""Snowflake credits attributed to tenants (contract section 4, FR-394) and the query-cost reports."""

import dagster as dg

from costattr_pipeline.defs.attribution.snowflake_credits import assets, schedules
from costattr_pipeline.defs.project import Project


def build_defs(project: Project) -> dg.Definitions:
    return dg.Definitions.merge(assets.build_defs(project), schedules.build_defs(project))


__all__ = ["build_defs"]
