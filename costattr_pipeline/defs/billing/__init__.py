"""Billing: usage sources, the daily tenant summary, monthly bills and unit economics, their schedules.

One entry point for ``definitions.py``; each part keeps its own folder (``ingest/usage``,
``attribution/tenant_summary``, ``billing``).
"""

import dagster as dg

from costattr_pipeline.defs.attribution import tenant_summary
from costattr_pipeline.defs.billing import assets, schedules
from costattr_pipeline.defs.ingest import usage
from costattr_pipeline.defs.project import Project


def build_defs(project: Project) -> dg.Definitions:
    return dg.Definitions.merge(
        usage.build_defs(project),
        tenant_summary.build_defs(project),
        assets.build_defs(project),
        schedules.build_defs(project),
    )


__all__ = ["build_defs"]
