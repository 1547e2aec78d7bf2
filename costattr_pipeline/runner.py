"""``costattr run``: every asset over a day range, as single-run backfills, in-process.

Daily assets run as one run over ``[start, end)``; monthly assets then run as one
run over every calendar month those days touch. The same Definitions, checks
and resources as the UI are used; nothing is started in a subprocess per day.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg

from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.target import Target

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class RunFailed(RuntimeError):
    """A step failed; the message is the first user-facing error."""


@dataclass
class AssetSummary:
    asset: str
    metadata: dict[str, str]


@dataclass
class RunSummary:
    assets: list[AssetSummary] = field(default_factory=list)
    checks: list[tuple[str, str, bool, str]] = field(default_factory=list)  # asset, check, passed, severity
    run_ids: list[str] = field(default_factory=list)


def _partition_groups(defs: dg.Definitions) -> list[tuple[dg.PartitionsDefinition, list[dg.AssetKey]]]:
    """Assets grouped by partitions definition, daily before monthly (dependencies flow that way)."""
    graph = defs.resolve_asset_graph()
    groups: dict[str, tuple[dg.PartitionsDefinition, list[dg.AssetKey]]] = {}
    for key in sorted(graph.materializable_asset_keys):
        partitions = graph.get(key).partitions_def
        if partitions is None:
            continue
        groups.setdefault(type(partitions).__name__ + str(partitions), (partitions, []))[1].append(key)
    order = {"DailyPartitionsDefinition": 0, "MonthlyPartitionsDefinition": 1}
    return sorted(groups.values(), key=lambda group: order.get(type(group[0]).__name__, 2))


def _range_keys(partitions: dg.PartitionsDefinition, start: dt.date, end: dt.date) -> tuple[str, str] | None:
    """First and last partition keys overlapping the day window ``[start, end)``."""
    assert isinstance(partitions, dg.TimeWindowPartitionsDefinition)
    window_start = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    window_end = dt.datetime.combine(end, dt.time(), dt.timezone.utc)
    keys = [key for key in partitions.get_partition_keys()
            if partitions.time_window_for_partition_key(key).start < window_end
            and partitions.time_window_for_partition_key(key).end > window_start]
    return (keys[0], keys[-1]) if keys else None


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and "costattr" not in error.cls_name.lower():
                error = error.cause
            return f"{event.step_key}: {error.message.strip()}"
    return "the run failed (see the Dagster event log)"


def _instance() -> dg.DagsterInstance:
    """The instance of DAGSTER_HOME when it is set (the UI then shows the CLI's runs), else an ephemeral one."""
    home = os.environ.get("DAGSTER_HOME")
    if home and (Path(home) / "dagster.yaml").exists():
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_range(target: Target, start: dt.date, end: dt.date, instance: dg.DagsterInstance | None = None,
              selection: Sequence[str] | None = None, log_level: str = "WARNING") -> RunSummary:
    """Materialize every asset for ``[start, end)`` and the months it touches; raise RunFailed on failure."""
    if end <= start:
        raise ValueError(f"--end {end} must be after --start {start}")
    target.export()
    defs = build_definitions(target)
    summary = RunSummary()
    owned_instance = instance is None
    instance = instance or _instance()
    try:
        for index, (partitions, keys) in enumerate(_partition_groups(defs)):
            if selection:
                keys = [key for key in keys if key.to_user_string() in selection]
            bounds = _range_keys(partitions, start, end)
            if not keys or bounds is None:
                continue
            job_name = f"costattr_run_{index}"
            job = dg.define_asset_job(job_name, selection=dg.AssetSelection.assets(*keys))
            job_def = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(job_name)
            result = job_def.execute_in_process(
                instance=instance, raise_on_error=False, run_config={"loggers": {"console": {"config": {
                    "log_level": log_level}}}},
                tags={RANGE_START_TAG: bounds[0], RANGE_END_TAG: bounds[1]},
            )
            summary.run_ids.append(result.run_id)
            for event in result.all_events:
                if event.is_step_materialization:
                    materialization = event.step_materialization_data.materialization
                    # A range run reports one materialization per partition with the same metadata.
                    asset = materialization.asset_key.to_user_string()
                    if asset not in {known.asset for known in summary.assets}:
                        summary.assets.append(AssetSummary(asset, {
                            name: str(value.value) for name, value in materialization.metadata.items()
                            if name not in ("preview", "dagster/column_schema")}))
                if event.event_type_value == "ASSET_CHECK_EVALUATION":
                    evaluation = event.event_specific_data
                    summary.checks.append((evaluation.asset_key.to_user_string(), evaluation.check_name,
                                           evaluation.passed, evaluation.severity.value))
            if not result.success:
                raise RunFailed(_first_error(result))
    finally:
        if owned_instance:
            instance.dispose()
    return summary
