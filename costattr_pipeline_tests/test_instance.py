"""The batched event storage records what Dagster's own storage records: every partition's own
materialization and figures, every check evaluation, failed partitions of a failed run."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from costattr_pipeline.instance import (
    EVENT_BATCH_VARIABLE,
    BatchedSqliteEventLogStorage,
    batched_events,
    ephemeral_instance,
)
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline.target import Target
from costattr_pipeline_tests.builders import group, page, write_fetch
from costattr_pipeline_tests.conftest import latest_materializations

REPOSITORY = Path(__file__).parents[1]
D1, D2, D3 = "2026-03-01", "2026-03-02", "2026-03-03"
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 4)
DAILY_ASSETS = ("metering/aws_cost_daily", "metering/unattributed_costs")

BATCHES: list[int] = []


class RecordingBatchedStorage(BatchedSqliteEventLogStorage):
    """The project's storage, remembering the size of every batch Dagster handed it."""

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        BATCHES.append(len(events))
        super().store_event_batch(events)


def _fetch(target) -> None:
    write_fetch(target.source_dir, "fetch-2026-03-03.json", [
        page({D1: [group("acme", "EC2", "60"), group("globex", "S3", "39"), group(None, "VPC", "1")],
              D2: [group("acme", "EC2", "14.7"), group(None, "VPC", "0.3")]}, next_token="p2"),
        page({D3: [group("acme", "EC2", "90"), group(None, "VPC", "10")]}, estimated=True),
    ])


def _home(tmp_path: Path, name: str, dagster_yaml: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    (home / "dagster.yaml").write_text(dagster_yaml, encoding="utf-8")
    return home


def _comparable(value: object, target: Target) -> object:
    """A metadata value with what differs between two folders and two moments (paths, load times) named."""
    if isinstance(value, str | os.PathLike):
        text = str(value).replace(str(target.source_dir.parent), "<folder>")
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", "<time>", text)
    return value


def _recorded(instance: dg.DagsterInstance, run_ids: Sequence[str], target: Target) -> dict[str, object]:
    """What the UI shows of the runs: each partition's own metadata, every check evaluation, and which
    partitions are materialized, per asset."""
    recorded: dict[str, object] = {}
    for key in instance.get_asset_keys():
        name = key.to_user_string()
        recorded[f"{name} partitions"] = {
            partition: {entry: _comparable(value, target) for entry, value in metadata.items()}
            for partition, metadata in latest_materializations(instance, key).items()}
        recorded[f"{name} materialized"] = sorted(instance.get_materialized_partitions(key))
    checks = []
    for run_id in run_ids:
        for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = record.dagster_event.asset_check_evaluation_data
            checks.append((evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.passed,
                           evaluation.severity.value,
                           {k: _comparable(v.value, target) for k, v in evaluation.metadata.items()}))
    recorded["checks"] = sorted(checks, key=repr)
    planned = [record.dagster_event.partition for run_id in run_ids for record in
               instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)]
    recorded["planned"] = sorted(planned, key=str)
    return recorded


def test_the_project_instance_is_the_batched_storage(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPOSITORY / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.get()
    try:
        assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
        assert Path(instance.event_log_storage._base_dir) == home / "history" / "runs"  # Dagster's own place
    finally:
        instance.dispose()


def test_batched_events_sets_the_batch_size_only_while_running_and_respects_the_users(monkeypatch) -> None:
    monkeypatch.delenv(EVENT_BATCH_VARIABLE, raising=False)
    with batched_events(7):
        assert os.environ[EVENT_BATCH_VARIABLE] == "7"
    assert EVENT_BATCH_VARIABLE not in os.environ
    monkeypatch.setenv(EVENT_BATCH_VARIABLE, "0")  # the user's choice: one write per event
    with batched_events():
        assert os.environ[EVENT_BATCH_VARIABLE] == "0"


def test_a_backfill_through_the_batched_storage_records_what_dagsters_own_storage_records(
        target, tmp_path, monkeypatch) -> None:
    _fetch(target)
    # The same sources in a second folder with its own warehouse: each instance records a first backfill.
    shutil.copytree(target.source_dir, tmp_path / "second" / "source")
    second = Target.resolve("local", str(tmp_path / "second" / "source"), None,
                            str(tmp_path / "second" / "warehouse.duckdb"))
    # Dagster's own SQLite storage, one write per event (batching off).
    monkeypatch.setenv(EVENT_BATCH_VARIABLE, "0")
    plain_home = _home(tmp_path, "plain", "telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(plain_home))
    plain = dg.DagsterInstance.get()
    try:
        assert type(plain.event_log_storage).__name__ == "SqliteEventLogStorage"
        plain_runs = run_range(target, START, END, instance=plain).run_ids
        expected = _recorded(plain, plain_runs, target)
    finally:
        plain.dispose()
    # The project's storage with the batch size costattr run sets.
    monkeypatch.delenv(EVENT_BATCH_VARIABLE)
    batched_home = _home(tmp_path, "batched", "event_log_storage:\n  module: " + __name__
                         + "\n  class: RecordingBatchedStorage\ntelemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(batched_home))
    BATCHES.clear()
    batched = dg.DagsterInstance.get()
    try:
        batched_runs = run_range(second, START, END, instance=batched).run_ids
        got = _recorded(batched, batched_runs, second)
    finally:
        batched.dispose()
    # Dagster handed whole steps' partitions (3 days) and whole runs' planned events as batches.
    assert 3 in BATCHES and max(BATCHES) > 3
    assert got == expected
    for asset in DAILY_ASSETS:  # every partition its own materialization, with its own figures
        assert got[f"{asset} materialized"] == [D1, D2, D3]
        partitions = got[f"{asset} partitions"]
        assert sorted(partitions) == [D1, D2, D3]
    rows = {day: got["metering/aws_cost_daily partitions"][day]["dagster/partition_row_count"] for day in (D1, D2, D3)}
    assert rows == {D1: 3, D2: 2, D3: 2}
    assert got["checks"] and all(check[2] for check in got["checks"] if check[1] == "reconciles_with_landing")


def test_failed_partitions_of_a_failed_run_show_as_failed_with_batching(target, tmp_path, monkeypatch) -> None:
    _fetch(target)
    (target.source_dir / "aws_cost_explorer" / "fetch-2026-03-06.json").write_text('[{"GroupDefinitions": [',
                                                                                     encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(_home(tmp_path, "home", (REPOSITORY / "dagster.yaml").read_text())))
    instance = dg.DagsterInstance.get()
    try:
        with pytest.raises(RunFailed, match="malformed JSON"):
            run_range(target, START, END, instance=instance)
        key = dg.AssetKey.from_user_string("metering/aws_cost_daily")
        status = get_and_update_asset_status_cache_value(instance, key,
                                                         _partitions_def(target, key))
        assert status is not None
        failed = status.deserialize_failed_partition_subsets(_partitions_def(target, key)).get_partition_keys()
        assert sorted(failed) == [D1, D2, D3]
        assert instance.get_materialized_partitions(key) == set()
    finally:
        instance.dispose()


def test_the_ephemeral_instance_batches_too(target) -> None:
    _fetch(target)
    instance = ephemeral_instance()
    try:
        summary = run_range(target, START, END, instance=instance)
        key = dg.AssetKey.from_user_string("metering/unattributed_costs")
        assert sorted(instance.get_materialized_partitions(key)) == [D1, D2, D3]
        assert summary.asset("metering/unattributed_costs").partitions == 3
    finally:
        instance.dispose()


def _partitions_def(target, key: dg.AssetKey) -> dg.PartitionsDefinition:
    from costattr_pipeline.definitions import build_definitions

    return build_definitions(target).resolve_asset_graph().get(key).partitions_def


def test_the_storage_keeps_its_connections_open_and_every_write_is_committed(target, tmp_path, monkeypatch) -> None:
    """One open connection per file instead of one per event: another process's instance on the same
    DAGSTER_HOME (the UI) reads every event as soon as it is written, and wiping gives the files up."""
    _fetch(target)
    home = _home(tmp_path, "home", (REPOSITORY / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.get()
    reader = dg.DagsterInstance.from_config(str(home))  # what the webserver opens
    key = dg.AssetKey.from_user_string("metering/aws_cost_daily")
    try:
        run_ids = run_range(target, START, END, instance=instance).run_ids
        storage = instance.event_log_storage
        assert isinstance(storage, BatchedSqliteEventLogStorage)
        assert 0 < len(storage._engines) <= storage.OPEN_SHARDS + 1  # noqa: SLF001
        for engine in storage._engines.values():  # noqa: SLF001  # WAL files, commits not waiting for the disk
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        for run_id in run_ids:  # the writer still open: the reader sees every event it recorded
            written = [record.storage_id for record in instance.get_records_for_run(run_id, limit=100_000).records]
            read = [record.storage_id for record in reader.get_records_for_run(run_id, limit=100_000).records]
            assert read == written and len(written) > 10
        assert reader.get_materialized_partitions(key) == {D1, D2, D3}
        instance.wipe()
        assert not storage._engines or set(storage._engines) == {"index"}  # noqa: SLF001
        assert reader.get_materialized_partitions(key) == set()
        assert not list((home / "history" / "runs").glob(f"{run_ids[0]}.db"))
        run_range(target, START, dt.date(2026, 3, 2), instance=instance)  # the files are made anew
        assert reader.get_materialized_partitions(key) == {D1}
    finally:
        reader.dispose()
        instance.dispose()


def test_the_temporary_event_folder_without_dagster_home_is_deleted_when_the_process_ends(tmp_path) -> None:
    """Without DAGSTER_HOME the events go to a temporary folder nothing else knows: it must not outlive the
    process (every `dg check defs` from a checkout would otherwise leave one in /tmp)."""
    script = ("import warnings; warnings.simplefilter('ignore')\n"
              "from costattr_pipeline.instance import BatchedSqliteEventLogStorage\n"
              "storage = BatchedSqliteEventLogStorage.from_config_value(None, {})\n"
              "import os; assert os.listdir(storage._base_dir)  # its index file\n"
              "print(storage._base_dir)\n")
    env = {name: value for name, value in os.environ.items() if name != "DAGSTER_HOME"}
    done = subprocess.run([sys.executable, "-c", script], env={**env, "TMPDIR": str(tmp_path)}, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    folder = done.stdout.strip()
    assert folder.startswith(str(tmp_path)) and "costattr-dagster-events-" in folder
    assert not os.path.exists(folder)


def _schema(path: Path) -> dict[str, object]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as connection:
        return {"tables": sorted(connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()),
                "revision": connection.execute("SELECT version_num FROM alembic_version").fetchall(),
                "journal": connection.execute("PRAGMA journal_mode").fetchone()}


def _log_line(run_id: str, message: str) -> dg.EventLogEntry:
    import logging
    import time

    return dg.EventLogEntry(error_info=None, level=logging.INFO, user_message=message, run_id=run_id,
                            timestamp=time.time())


def test_a_new_run_file_is_the_file_dagster_makes_without_loading_its_migrations(tmp_path, monkeypatch) -> None:
    """A run's file is a copy of an empty one Dagster's own ``_initdb`` made (kept in the cache folder per
    Dagster version); a later process neither makes it again nor loads Alembic's scripts to check a file."""
    from dagster._core.storage.event_log import SqliteEventLogStorage

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    dagsters, ours = SqliteEventLogStorage(str(tmp_path / "dagster")), BatchedSqliteEventLogStorage(str(tmp_path / "ours"))
    try:
        for storage in (dagsters, ours):
            storage.store_event(_log_line("run-1", "first"))
        assert _schema(tmp_path / "ours" / "run-1.db") == _schema(tmp_path / "dagster" / "run-1.db")
        assert _schema(tmp_path / "ours" / "run-1.db")["journal"] == ("wal",)
        assert list((tmp_path / "cache" / "costattr").glob("dagster-*-run-events.db"))
    finally:
        dagsters.dispose()
        ours.dispose()

    def no_migrations(*_args, **_kwargs):
        raise AssertionError("Dagster's _initdb (Alembic) was called")

    monkeypatch.setattr(SqliteEventLogStorage, "_initdb", no_migrations)
    later = BatchedSqliteEventLogStorage(str(tmp_path / "ours"))  # another process on the same folder
    try:
        later.store_event(_log_line("run-1", "second"))
        later.store_event(_log_line("run-2", "third"))
        assert [record.event_log_entry.user_message for record in later.get_records_for_run("run-1").records] == [
            "first", "second"]
        assert [record.event_log_entry.user_message for record in later.get_records_for_run("run-2").records] == [
            "third"]
        assert _schema(tmp_path / "ours" / "run-2.db") == _schema(tmp_path / "dagster" / "run-1.db")
    finally:
        later.dispose()


def test_without_a_cache_folder_a_run_file_is_made_the_way_dagster_makes_it(tmp_path, monkeypatch) -> None:
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    storage = BatchedSqliteEventLogStorage(str(tmp_path / "ours"))
    try:
        storage.store_event(_log_line("run-1", "kept"))
        assert [record.event_log_entry.user_message for record in storage.get_records_for_run("run-1").records] == [
            "kept"]
        assert _schema(tmp_path / "ours" / "run-1.db")["revision"]
    finally:
        storage.dispose()
