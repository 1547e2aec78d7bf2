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


def build_definitions(target: Target) -> dg.Definitions:
    """The definitions for ``target``: its settings shape the partitions, its resources run the assets."""
    settings = load_settings(target.config_dir)
    with loading(Project(settings)):
        concerns = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return dg.Definitions.merge(concerns, dg.Definitions(resources=resources_for(target, settings)))


@dg.definitions
def defs() -> dg.Definitions:
    """What Dagster loads (``dg``, ``dagster dev``, the daemon): the target named by the environment."""
    return build_definitions(Target.from_environment())
