"""``costattr run``: every asset over a day range, as single-run backfills, in-process.

A thin layer over Dagster: the definitions are built for the target it is given, the daily assets
run as one run over the partition-key range of ``[start, end)`` and the monthly assets as one more
run over the months those days touch (the partitions definitions give the ranges), through the
global asset job the UI uses. What each run materialized and checked is read from its events as
they are stored, which also reports progress (each asset as it starts and ends) to the caller.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._core.utils import make_new_run_id

from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.instance import batched_events, ephemeral_instance
from costattr_pipeline.metadata import PARTITION_ROW_COUNT, RUN_FIGURES
from costattr_pipeline.resources.warehouse import close_kept_connections
from costattr_pipeline.target import Target


class RunFailed(RuntimeError):
    """A step failed; the message is the first user-facing error."""


@dataclass
class AssetSummary:
    """What one asset did in a run: its partitions and their rows, its step's time, the run's figures."""

    asset: str
    partitions: int = 0
    rows: int = 0
    seconds: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)   # ``run_figures``: exact values as text
    metadata: dict[str, str] = field(default_factory=dict)  # the other entries true of the whole run


class CheckSummary(NamedTuple):
    asset: str
    check: str
    passed: bool
    severity: str


@dataclass
class RunRecord:
    """One Dagster run of a range: which partitions, how long, how much."""

    run_id: str
    first: str
    last: str
    assets: int = 0
    rows: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    seconds: float = 0.0


@dataclass
class RunSummary:
    assets: list[AssetSummary] = field(default_factory=list)
    checks: list[CheckSummary] = field(default_factory=list)
    failing_rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (asset, check): rows that broke it
    runs: list[RunRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run did not cover, and why
    files: list[str] = field(default_factory=list)  # files the assets wrote (path metadata), e.g. the reports

    @property
    def run_ids(self) -> list[str]:
        return [run.run_id for run in self.runs]

    def asset(self, name: str) -> AssetSummary:
        return next(asset for asset in self.assets if asset.asset == name)


@dataclass(frozen=True)
class RunStarted:
    number: int
    of: int
    first: str
    last: str
    assets: int
    keys: tuple[str, ...] = ()  # the assets the run materializes


@dataclass(frozen=True)
class StepStarted:
    assets: tuple[str, ...]


@dataclass(frozen=True)
class StepFinished:
    assets: tuple[str, ...]
    seconds: float
    rows: int
    succeeded: bool


@dataclass(frozen=True)
class RunFinished:
    number: int
    of: int
    run: RunRecord


@dataclass(frozen=True)
class Warned:
    """A warning an asset logged (an alert, a note on its input), as it was logged."""

    asset: str
    message: str


Progress = RunStarted | StepStarted | StepFinished | RunFinished | Warned


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
        notes.append(f"days in the future (after today's partition) are skipped: [{max(start, last_window.end.date())}, {end})")
    return notes


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    """One line for the user: the failed blocking check (its description names the rule), else the failed
    step's own error; of several, the one whose asset or step key sorts first.

    Dagster's in-process executor starts the steps that are ready in an order that follows string
    hashing, which changes from process to process; when several independent steps fail (say, the
    warehouse refuses the credentials and Cost Explorer has none), the same input must still give the
    same line. The other failures are in the event log."""
    blocking = sorted((evaluation for evaluation in result.get_asset_check_evaluations()
                       if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR),
                      key=lambda evaluation: (evaluation.asset_key.to_user_string(), evaluation.check_name))
    if blocking:
        rule = blocking[0].description or "failed"
        return f"{blocking[0].asset_key.to_user_string()}: blocking check {blocking[0].check_name}: {rule}"
    failures = sorted((event for event in result.all_node_events
                       if event.is_step_failure and event.step_failure_data and event.step_failure_data.error),
                      key=lambda event: event.step_key or "")
    if failures:
        return step_error_line(failures[0].step_key, failures[0].step_failure_data.error)
    return "the run failed (see the Dagster event log)"


def step_error_line(step_key: str, error) -> str:
    """The user's line for a failed step: costattr's own errors already name the file, the row or key and
    the rule (or the asset and the blocking check), so they are shown as they are; anything else (a bug,
    an engine error) is named with its step and type, first line only (the rest is in the event log)."""
    innermost = error
    while innermost is not None:
        message = innermost.message.strip()
        if message.startswith("costattr_pipeline."):  # ours, even when it keeps a driver's error as its cause
            return message.split(": ", 1)[-1].splitlines()[0]
        if innermost.cause is None:
            break
        innermost = innermost.cause
    return f"{step_key}: {message.splitlines()[0]}"


def _instance() -> dg.DagsterInstance:
    """The instance of DAGSTER_HOME when it is set (the UI then shows the CLI's runs), else an ephemeral one."""
    home = os.environ.get("DAGSTER_HOME")
    if home and (Path(home) / "dagster.yaml").exists():
        return dg.DagsterInstance.get()
    return ephemeral_instance()


class _RunWatcher:
    """Follows one run's events as Dagster stores them: steps starting and ending, partitions, checks.

    ``execute_in_process`` runs the steps one after another in this process; the instance calls the
    watcher with every event of the run id it was registered for, as it is stored, so progress is
    reported while the run goes on (a year's backfill takes minutes) and the summary is read from
    the same events.
    """

    def __init__(self, assets_of_step: dict[str, tuple[str, ...]], summary: RunSummary, record: RunRecord,
                 progress: Callable[[Progress], None] | None):
        self.assets_of_step = assets_of_step
        self.summary = summary
        self.record = record
        self.progress = progress
        self.started: dict[str, float] = {}
        self.running: set[str] = set()
        self.step_rows: dict[str, int] = {}

    def _asset(self, name: str) -> AssetSummary:
        for asset in self.summary.assets:
            if asset.asset == name:
                return asset
        asset = AssetSummary(name)
        self.summary.assets.append(asset)
        return asset

    def __call__(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            # What a running step's code logged (the engine's own warnings about steps it skips are not).
            if entry.level >= logging.WARNING and entry.user_message and entry.step_key in self.running:
                step = entry.step_key
                self._emit(Warned(", ".join(self.assets_of_step.get(step, (step,))), entry.user_message))
            return
        step = event.step_key or ""
        assets = self.assets_of_step.get(step, (step,))
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.running.add(step)
            self.started[step] = entry.timestamp
            self.step_rows[step] = 0
            self._emit(StepStarted(assets))
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            self.running.discard(step)
            seconds = round(entry.timestamp - self.started.get(step, entry.timestamp), 3)
            for name in assets:
                self._asset(name).seconds = seconds
            self._emit(StepFinished(assets, seconds, self.step_rows.get(step, 0),
                                    event.event_type == dg.DagsterEventType.STEP_SUCCESS))
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._materialized(step, event.step_materialization_data.materialization)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            check = CheckSummary(evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.passed,
                                 evaluation.severity.value)
            self.summary.checks.append(check)
            failing = evaluation.metadata.get("failing_rows")
            if failing is not None:
                self.summary.failing_rows[(check.asset, check.check)] = int(failing.value)
            if check.passed:
                self.record.checks_passed += 1
            else:
                self.record.checks_failed += 1

    def _materialized(self, step: str, materialization: dg.AssetMaterialization) -> None:
        asset = self._asset(materialization.asset_key.to_user_string())
        metadata = materialization.metadata
        rows = int(metadata[PARTITION_ROW_COUNT].value) if PARTITION_ROW_COUNT in metadata else 0
        if asset.partitions == 0:  # the entries of the whole run are on every partition: read them once
            self.record.assets += 1
            if RUN_FIGURES in metadata:
                asset.figures = dict(metadata[RUN_FIGURES].value)
            asset.metadata = {name: str(value.value) for name, value in metadata.items()
                              if name.startswith("run_") and name != RUN_FIGURES}
        # Files a partition wrote (a month's report): the command prints where they are.
        self.summary.files += [str(value.value) for value in metadata.values() if isinstance(value, dg.PathMetadataValue)]
        asset.partitions += 1
        asset.rows += rows
        self.record.rows += rows
        self.step_rows[step] = self.step_rows.get(step, 0) + rows

    def _emit(self, event: Progress) -> None:
        if self.progress is not None:
            self.progress(event)


def _assets_of_steps(defs: dg.Definitions) -> dict[str, tuple[str, ...]]:
    """The asset keys each step materializes (a step is an asset's op: one asset, or a multi-asset's)."""
    steps: dict[str, tuple[str, ...]] = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if assets_def.is_executable:
            steps[assets_def.op.name] = tuple(sorted(key.to_user_string() for key in assets_def.keys))
    return steps


def run_range(target: Target, start: dt.date, end: dt.date, instance: dg.DagsterInstance | None = None,
              selection: Sequence[str] | None = None, log_level: str = "WARNING",
              progress: Callable[[Progress], None] | None = None,
              defs: dg.Definitions | None = None) -> RunSummary:
    """Materialize every asset for ``[start, end)`` and the months it touches; raise RunFailed on failure.

    ``progress`` is called as each run and each asset starts and ends, and with each warning an asset logs
    (alerts): with ``log_level`` above WARNING, Dagster's console log is quiet and the caller says them.
    ``defs``: other definitions of the same graph to run instead of the target's (the bench's floor).
    """
    if end <= start:
        raise ValueError(f"--end {end} must be after --start {start}")
    if defs is None:  # the bench's floor passes its own (bench/floor.py: the same graph, empty steps)
        defs = build_definitions(target, component_catalog=False)  # what a run executes, nothing for the UI
    job = defs.resolve_implicit_global_asset_job_def()
    assets_of_step = _assets_of_steps(defs)
    summary = RunSummary()
    owned_instance = instance is None
    instance = instance or _instance()
    groups = partition_groups(defs)
    if groups:
        summary.notes += uncovered_days(groups[0][0], start, end)
    planned = []
    for partitions, keys in groups:
        if selection:
            keys = [key for key in keys if key.to_user_string() in selection]
        keys_range = key_range(partitions, start, end)
        if keys and keys_range is not None:
            planned.append((keys, keys_range))
    try:
        for number, (keys, keys_range) in enumerate(planned, start=1):
            run_id = make_new_run_id()
            record = RunRecord(run_id, keys_range.start, keys_range.end)
            summary.runs.append(record)
            watcher = _RunWatcher(assets_of_step, summary, record, progress)
            instance.add_event_listener(run_id, watcher)
            watcher._emit(RunStarted(number, len(planned), keys_range.start, keys_range.end, len(keys),
                                     tuple(key.to_user_string() for key in keys)))
            began = time.perf_counter()
            # Dagster hands the storage each step's per-partition events (and the run's planned events)
            # as batches: costattr's storages write a batch in one transaction (costattr_pipeline/instance.py).
            with batched_events():
                result = job.execute_in_process(
                    instance=instance, raise_on_error=False, asset_selection=keys, run_id=run_id,
                    run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                    tags={ASSET_PARTITION_RANGE_START_TAG: keys_range.start,
                          ASSET_PARTITION_RANGE_END_TAG: keys_range.end},
                )
            record.seconds = round(time.perf_counter() - began, 3)
            watcher._emit(RunFinished(number, len(planned), record))
            if not result.success:
                raise RunFailed(_first_error(result))
    finally:
        close_kept_connections()  # the run's shared DuckDB connection (resources/warehouse.py)
        if owned_instance:
            instance.dispose()
    return summary
