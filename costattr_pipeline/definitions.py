"""The code location: every definition under ``defs/``, with the resources of the target.

Nothing here lists assets, checks, schedules or sensors: each concern's module under ``defs/``
contributes its own, and Dagster finds them (``load_from_defs_folder``). This module only names
the project being loaded (its settings decide the partitions) and picks the resources.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

from costattr_pipeline.lib.config import load_settings
from costattr_pipeline.project import Project, loading
from costattr_pipeline.resources.targets import resources_for
from costattr_pipeline.target import Target

# Single-run backfills are a deliberate choice (a year of days is one run); Dagster marks the
# parameter beta and would print one warning per asset at every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


def build_definitions(target: Target, component_catalog: bool = True) -> dg.Definitions:
    """The definitions for ``target``: its settings shape the partitions, its resources run the assets.

    ``component_catalog``: also describe every component type installed (what ``load_from_defs_folder``
    adds for the UI and ``dg``). Listing them imports every installed Dagster integration, dagster-snowflake
    among them (2-3 s); ``costattr run`` executes the definitions and needs none of it.
    """
    settings = load_settings(target.config_dir)
    with loading(Project(settings)):
        if component_catalog:
            concerns = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
        else:  # the same defs folder, without the catalog of installed component types
            concerns = dg.ComponentTree.for_project(path_within_project=Path(__file__).parent).build_defs(
                Path(__file__).parent / "defs")
    return dg.Definitions.merge(concerns, dg.Definitions(resources=resources_for(target, settings)))


@dg.definitions
def defs() -> dg.Definitions:
    """What Dagster loads (``dg``, ``dagster dev``, the daemon): the target named by the environment."""
    return build_definitions(Target.from_environment())
