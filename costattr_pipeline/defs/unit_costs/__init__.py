"""Unit-cost splits: each day's whole cost across products, environments, customers; and tag strings."""

import dagster as dg

from costattr_pipeline.defs.project import Project
from costattr_pipeline.defs.unit_costs import assets, schedules


def build_defs(project: Project) -> dg.Definitions:
    return dg.Definitions.merge(assets.build_defs(project), schedules.build_defs(project))
