"""The public surface of the code location, as users and their automation see it, pinned by a snapshot.

Asset keys, groups, owners and tags, partitions, check names (and whether they block), jobs, schedules with their
crons and sensors are names people type, link to and alert on. A change to any of them must be a
decision: review the snapshot diff, then run ``pytest --snapshot-update``.
"""

from __future__ import annotations

import dagster as dg

from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.target import Target


def _surface(defs: dg.Definitions) -> dict[str, object]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "tags": {name: value for name, value in sorted(node.tags.items()) if not name.startswith("dagster/")},
            "partitions": type(partitions).__name__ if partitions else None,
            "single_run_backfill": node.backfill_policy == dg.BackfillPolicy.single_run(),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted((check.name, graph.get(check).blocking) for check in node.check_keys),
        }
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "jobs": sorted(job.name for job in repository.get_all_jobs() if not job.name.startswith("__")),
        "schedules": {schedule.name: {"cron": schedule.cron_schedule, "job": schedule.job_name,
                                      "timezone": schedule.execution_timezone}
                      for schedule in sorted(repository.schedule_defs, key=lambda item: item.name)},
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
    }


def test_public_surface_is_unchanged(target: Target, snapshot) -> None:
    with dg.instance_for_test():
        surface = _surface(build_definitions(target))
    assert surface == snapshot
