"""``costattr run``: every asset over a day range, as single-run backfills, in-process.

A thin layer over Dagster: the definitions are built for the target it is given, the daily assets
run as one run over the partition-key range of ``[start, end)`` and the monthly assets as one more
run over the months those days touch (the partitions definitions give the ranges), through the
global asset job the UI uses. What each run materialized and checked is read from its result.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.target import Target

SKIPPED_METADATA = ("preview", "dagster/column_schema")


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
    notes: list[str] = field(default_factory=list)  # what the run did not cover, and why


def partition_groups(defs: dg.Definitions) -> list[tuple[dg.TimeWindowPartitionsDefinition, list[dg.AssetKey]]]:
    """The materializable assets grouped by partitions definition, finest first (daily feeds monthly)."""
    graph = defs.resolve_asset_graph()
    groups: dict[dg.PartitionsDefinition, list[dg.AssetKey]] = {}
    for key in sorted(graph.materializable_asset_keys):
        partitions = graph.get(key).partitions_def
        if isinstance(partitions, dg.TimeWindowPartitionsDefinition):
            groups.setdefault(partitions, []).append(key)
    return sorted(groups.items(), key=lambda group: _partition_length(group[0]))


def _partition_length(partitions: dg.TimeWindowPartitionsDefinition) -> dt.timedelta:
    first = partitions.get_first_partition_window()
    return first.end - first.start if first else dt.timedelta(0)


def key_range(partitions: dg.TimeWindowPartitionsDefinition, start: dt.date, end: dt.date
              ) -> dg.PartitionKeyRange | None:
    """The partitions that overlap the day window ``[start, end)`` (a month touched by one day is in)."""
    first_day = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    last_day = dt.datetime.combine(end - dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    first_key = partitions.get_partition_key_for_timestamp(max(first_day, _first_start(partitions)).timestamp())
    last_existing = partitions.get_last_partition_key()
    if last_existing is None:
        return None
    last_key = partitions.get_partition_key_for_timestamp(last_day.timestamp())
    last_key = min(last_key, last_existing, key=lambda key: partitions.time_window_for_partition_key(key).start)
    if partitions.time_window_for_partition_key(first_key).start > partitions.time_window_for_partition_key(
            last_key).start:
        return None
    return dg.PartitionKeyRange(first_key, last_key)


def _first_start(partitions: dg.TimeWindowPartitionsDefinition) -> dt.datetime:
    window = partitions.get_first_partition_window()
    assert window is not None
    return window.start


def uncovered_days(partitions: dg.TimeWindowPartitionsDefinition, start: dt.date, end: dt.date) -> list[str]:
    """What of ``[start, end)`` has no partition: days before the partitions start, or after today's."""
    notes = []
    first = _first_start(partitions).date()
    last_window = partitions.get_last_partition_window()
    if start < first:
        notes.append(f"days before {first} (partitions_start in settings.yaml) are skipped: "
                     f"[{start}, {min(end, first)})")
    if last_window is not None and end > last_window.end.date():
        notes.append(f"days after today's partition are skipped: [{max(start, last_window.end.date())}, {end})")
    return notes


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    """One line for the user: the first failed blocking check (its description names the rule), else the
    first failed step's own error."""
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            rule = evaluation.description or "failed"
            return f"{evaluation.asset_key.to_user_string()}: blocking check {evaluation.check_name}: {rule}"
    for event in result.all_node_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return step_error_line(event.step_key, event.step_failure_data.error)
    return "the run failed (see the Dagster event log)"


def step_error_line(step_key: str, error) -> str:
    """The user's line for a failed step: costattr's own errors already name the file, the row or key and
    the rule (or the asset and the blocking check), so they are shown as they are; anything else (a bug,
    an engine error) is named with its step and type, first line only (the rest is in the event log)."""
    innermost = error
    while innermost.cause is not None:
        innermost = innermost.cause
    message = innermost.message.strip()
    if message.startswith("costattr_pipeline."):
        return message.split(": ", 1)[-1].splitlines()[0]
    return f"{step_key}: {message.splitlines()[0]}"


def _instance() -> dg.DagsterInstance:
    """The instance of DAGSTER_HOME when it is set (the UI then shows the CLI's runs), else an ephemeral one."""
    home = os.environ.get("DAGSTER_HOME")
    if home and (Path(home) / "dagster.yaml").exists():
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _summarize(result: dg.ExecuteInProcessResult, summary: RunSummary) -> None:
    """The first materialization of each asset (a range run records one per partition) and every check."""
    seen = {known.asset for known in summary.assets}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        asset = materialization.asset_key.to_user_string()
        if asset not in seen:
            seen.add(asset)
            summary.assets.append(AssetSummary(asset, {
                name: str(value.value) for name, value in materialization.metadata.items()
                if name not in SKIPPED_METADATA}))
    for evaluation in result.get_asset_check_evaluations():
        summary.checks.append((evaluation.asset_key.to_user_string(), evaluation.check_name,
                               evaluation.passed, evaluation.severity.value))


def run_range(target: Target, start: dt.date, end: dt.date, instance: dg.DagsterInstance | None = None,
              selection: Sequence[str] | None = None, log_level: str = "WARNING") -> RunSummary:
    """Materialize every asset for ``[start, end)`` and the months it touches; raise RunFailed on failure."""
    if end <= start:
        raise ValueError(f"--end {end} must be after --start {start}")
    defs = build_definitions(target)
    job = defs.resolve_implicit_global_asset_job_def()
    summary = RunSummary()
    owned_instance = instance is None
    instance = instance or _instance()
    groups = partition_groups(defs)
    if groups:
        summary.notes += uncovered_days(groups[0][0], start, end)
    try:
        for partitions, keys in groups:
            if selection:
                keys = [key for key in keys if key.to_user_string() in selection]
            keys_range = key_range(partitions, start, end)
            if not keys or keys_range is None:
                continue
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, asset_selection=keys,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                tags={ASSET_PARTITION_RANGE_START_TAG: keys_range.start, ASSET_PARTITION_RANGE_END_TAG: keys_range.end},
            )
            summary.run_ids.append(result.run_id)
            _summarize(result, summary)
            if not result.success:
                raise RunFailed(_first_error(result))
    finally:
        if owned_instance:
            instance.dispose()
    return summary
