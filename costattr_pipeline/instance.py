"""The Dagster instance costattr runs on: Dagster's own storages, writing a batch of asset events at once.

A single-run backfill of a year records, per asset and partition, a planned event when the run is
created and a materialization when the step ends: about 8,300 events a year. Dagster's SQLite and
in-memory event storages write each one on its own (SQLite: a new connection to the run's file and
another to the index, a transaction each, about 1.8 ms per event). Dagster already hands the storage
the per-partition events of one step (and the planned events of one run) as one batch when
``DAGSTER_EVENT_BATCH_SIZE`` is set (``dagster/_core/instance/methods/event_methods.py``), but the
storages' ``store_event_batch`` falls back to one write per event; only dagster-postgres inserts a
batch of materializations in one statement.

The storages here write a batch in one transaction per database: every event keeps its own row (its
own storage id, partition, metadata), the asset index gets every event and its tags, and the asset's
latest-event row is written once per asset with the batch's last event of that asset, as
dagster-postgres does. Nothing the UI reads is left out: each partition keeps its own
materialization, status and figures, failed partitions their failure events.

``dagster.yaml`` (the project's, and ``docs/deploy/dagster.yaml`` for PostgreSQL) names these classes;
``batched_events`` sets ``DAGSTER_EVENT_BATCH_SIZE`` while ``costattr run`` executes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from dagster import DagsterInstance, Field, StringSource
from dagster._core.events import ASSET_EVENTS, BATCH_WRITABLE_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.instance import InstanceType
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.run_coordinator import DefaultRunCoordinator
from dagster._core.storage.event_log import InMemoryEventLogStorage, SqliteEventLogStorage
from dagster._core.storage.event_log.base import EventLogCursor
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.root import TemporaryLocalArtifactStorage
from dagster._core.storage.runs import InMemoryRunStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import serialize_value
from dagster.version import __version__ as dagster_version
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool, QueuePool

from costattr_pipeline.lib.cache_files import cache_folder, copy_new, partial_path

# Events per batch: a year of daily partitions of one asset is 365 events, a run's planned events
# about 4,000; 1,000 keeps a batch's rows and their serialized metadata small in memory.
EVENT_BATCH_SIZE = 1000
EVENT_BATCH_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"


@contextmanager
def batched_events(size: int = EVENT_BATCH_SIZE) -> Iterator[None]:
    """Dagster hands asset events to the storage in batches while inside (unless the user set a size)."""
    previous = os.environ.get(EVENT_BATCH_VARIABLE)
    if previous is None:
        os.environ[EVENT_BATCH_VARIABLE] = str(size)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(EVENT_BATCH_VARIABLE, None)


def _is_asset_event(event: EventLogEntry) -> bool:
    """An asset event a batch may hold (materialization, observation, planned): a row in the run's log and
    in the asset index. Check events and run events keep Dagster's own path."""
    return (event.is_dagster_event and event.dagster_event_type in BATCH_WRITABLE_EVENTS
            and event.dagster_event_type in ASSET_EVENTS and event.get_dagster_event().asset_key is not None)


def _last_event_of_each_asset(events: Sequence[EventLogEntry], event_ids: Sequence[int]
                              ) -> list[tuple[EventLogEntry, int]]:
    """The asset index keeps each asset's latest event: of a batch, only the last of each asset counts."""
    last: dict[str, tuple[EventLogEntry, int]] = {}
    for event, event_id in zip(events, event_ids):
        last[event.get_dagster_event().asset_key.to_string()] = (event, event_id)
    return list(last.values())


def _inserted_ids(conn, rows: Sequence[dict]) -> list[int]:
    """Insert ``rows`` into the event log in one statement; their storage ids, in the rows' order."""
    result = conn.execute(SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id,
                                                                     sort_by_parameter_order=True), list(rows))
    return [int(row[0]) for row in result.fetchall()]


def _commit_without_waiting_for_the_disk(dbapi_connection, _record) -> None:
    """``synchronous=NORMAL`` on a new SQLite connection (the files are in WAL mode: see the storage)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _is_stamped(path: str) -> bool:
    """Whether the SQLite file at ``path`` exists and carries an Alembic revision (Dagster made it)."""
    if not os.path.exists(path):
        return False
    try:
        with closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as connection:
            return connection.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    except sqlite3.Error:
        return False


class _BatchedWrites:
    """What the batched storages share: split a batch into its asset events (written together) and the rest
    (a run's planned check evaluations: Dagster's own path, each written once), and the asset index."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        assets = [event for event in events if _is_asset_event(event)]
        if assets and len({event.run_id for event in assets}) == 1:
            self._store_asset_batch(assets)
        else:
            assets = []
        for event in events:
            if not assets or not _is_asset_event(event):
                self.store_event(event)

    def _store_asset_batch(self, events: Sequence[EventLogEntry]) -> None:
        raise NotImplementedError

    def _index_batch(self, conn, events: Sequence[EventLogEntry], event_ids: Sequence[int]) -> None:
        self._store_asset_event_tags(conn, events, event_ids)
        for event, event_id in _last_event_of_each_asset(events, event_ids):
            self._store_asset_event(conn, event, event_id)

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """Dagster's own rows (one per partition of a planned check, status PLANNED), with the planned event
        serialized once instead of once per partition (365 times for a year of days)."""
        planned = event.get_dagster_event().event_specific_data
        partition_keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        serialized = serialize_value(event)
        timestamp = self._event_insert_timestamp(event)
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [
                dict(asset_key=planned.asset_key.to_string(), check_name=planned.check_name, partition=partition_key,
                     run_id=event.run_id, execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
                     evaluation_event=serialized, evaluation_event_timestamp=timestamp,
                     evaluation_event_storage_id=event_id)
                for partition_key in partition_keys])


class BatchedSqliteEventLogStorage(_BatchedWrites, SqliteEventLogStorage):
    """Dagster's SQLite event storage (a file per run, an index file), writing a batch in one
    transaction per file instead of two connections per event.

    ``base_dir`` defaults to where Dagster's own default puts the event logs
    (``$DAGSTER_HOME/history/runs``), so an existing DAGSTER_HOME keeps its history.

    Dagster's storage builds a new SQLAlchemy engine and opens a new SQLite connection for every write
    and read, and closing a WAL database's last connection checkpoints it: a run's ~500 events that are
    not asset events (step starts and ends, check evaluations, logs) paid an engine, a connection and a
    checkpoint each. This storage keeps one engine with one open connection for the index and for each
    of the few run files last written (``OPEN_SHARDS``), and gives them up before a file is deleted
    (``wipe``) and when the instance is disposed. Every write is still its own committed transaction,
    under the same lock, and SQLite checkpoints the WAL itself (every 1,000 pages).

    Its connections commit with ``PRAGMA synchronous=NORMAL``, SQLite's advice for WAL files: a commit
    no longer waits for the disk (0.64 ms a commit on this machine's disk against 0.04 ms, ~1,000 commits
    a daily increment). The file stays consistent whatever happens; a process that dies loses nothing;
    only a power cut or a kernel crash may lose the last events (a run then shows as unfinished: running
    its days again converges, runs are idempotent). The warehouse's own writes are not concerned.
    """

    OPEN_SHARDS = 4

    @property
    def _engines(self) -> dict:
        engines = self.__dict__.get("_open_engines")
        if engines is None:
            engines = self.__dict__["_open_engines"] = {}
        return engines

    @contextmanager
    def _connect(self, shard: str) -> Iterator:
        with self._db_lock:
            engines = self._engines
            engine = engines.pop(shard, None)  # re-inserted below: the dict is ordered by last use
            if engine is None:
                conn_string = self.conn_string_for_shard(shard)
                if shard not in self._initialized_dbs:
                    self._prepare(shard)
                    self._initialized_dbs.add(shard)
                engine = create_engine(conn_string, poolclass=QueuePool, pool_size=1, max_overflow=0,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                     "check_same_thread": False})
                sqlalchemy_event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
            engines[shard] = engine
            while len(engines) > self.OPEN_SHARDS + 1:  # the run files used longest ago (the index is used often)
                engines.pop(next(iter(engines))).dispose()
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def _prepare(self, shard: str) -> None:
        """Make ``shard``'s file ready, as Dagster's ``_initdb`` would, without its cost where it can.

        Dagster checks a file by loading every Alembic migration script of its event log to learn the head
        revision (0.45 s, once per process), and makes a new run's file by creating the schema and stamping
        that revision (0.1-0.2 s per run). A file that already carries a revision is left as it is (``_initdb``
        then does nothing either: it never migrates); a new run's file is a copy of an empty one that
        Dagster's own ``_initdb`` made once per Dagster version in the cache folder. Anything else (the
        index's first creation, a file another process is creating, no cache folder) takes Dagster's path.
        """
        path = self.path_for_shard(shard)
        if _is_stamped(path):
            return
        if shard != INDEX_SHARD_NAME and not os.path.exists(path):
            template = self._new_run_file()
            if template is not None and copy_new(template, Path(path)):
                return
        setup = create_engine(self.conn_string_for_shard(shard), poolclass=NullPool,
                              connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        try:
            self._initdb(setup)
        finally:
            setup.dispose()

    def _new_run_file(self) -> Path | None:
        """An empty run file as Dagster's ``_initdb`` makes it (schema, WAL mode, Alembic stamp), kept in the
        cache folder per Dagster version; None when it cannot be kept there."""
        template = cache_folder() / f"dagster-{dagster_version}-run-events.db"
        if _is_stamped(str(template)):
            return template
        partial = partial_path(template)
        try:
            template.parent.mkdir(parents=True, exist_ok=True)
            partial.unlink(missing_ok=True)
            engine = create_engine(f"sqlite:///{partial}", poolclass=NullPool)
            try:
                self._initdb(engine)
            finally:
                engine.dispose()  # the last connection closed: the WAL is written into the file and removed
            if Path(f"{partial}-wal").exists():
                return None
            partial.replace(template)
        except (OSError, sqlite3.Error, SQLAlchemyError):
            with suppress(OSError):
                partial.unlink(missing_ok=True)
            return None
        return template

    def _dispose_engines(self) -> None:
        with self._db_lock:
            engines = self._engines
            while engines:
                engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # no connection may outlive the files wipe deletes
        super().wipe()

    def upgrade(self) -> None:
        self._dispose_engines()
        super().upgrade()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        base_dir = config_value.get("base_dir")
        if not base_dir:
            home = os.environ.get("DAGSTER_HOME")
            if home:
                base_dir = os.path.join(os.path.expanduser(home), "history", "runs", "")
            else:
                # Read without DAGSTER_HOME (`dg check defs` from the checkout, an instance opened by path): the
                # storage cannot know this file's folder, and nothing it records needs to outlive the process.
                base_dir = tempfile.mkdtemp(prefix="costattr-dagster-events-")
                warnings.warn("DAGSTER_HOME is not set: Dagster's events are kept in a temporary folder "
                              f"({base_dir}); set DAGSTER_HOME to keep run history", stacklevel=2)
                storage = cls(base_dir=base_dir, inst_data=inst_data)
                # Deleted with the storage (or when the process ends): nothing else knows the folder.
                weakref.finalize(storage, shutil.rmtree, base_dir, True)
                return storage
        return cls(base_dir=base_dir, inst_data=inst_data)

    def _store_asset_batch(self, events: Sequence[EventLogEntry]) -> None:
        rows = [self._event_to_row(event) for event in events]  # each event serialized once, for both files
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        # The index mirrors the asset events with its own ids (what asset queries and the UI read).
        with self.index_transaction() as conn:
            self._index_batch(conn, events, _inserted_ids(conn, rows))


class BatchedInMemoryEventLogStorage(_BatchedWrites, InMemoryEventLogStorage):
    """Dagster's in-memory event storage (an ephemeral instance), writing a batch in one transaction."""

    def _store_asset_batch(self, events: Sequence[EventLogEntry]) -> None:
        rows = [self._event_to_row(event) for event in events]
        with self.index_transaction() as conn:
            self._index_batch(conn, events, _inserted_ids(conn, rows))
        for event in events:  # what InMemoryEventLogStorage.store_event does after each write
            self._storage_id += 1
            for handler in list(self._handlers[event.run_id]):
                handler(event, str(EventLogCursor.from_storage_id(self._storage_id)))


def ephemeral_instance() -> DagsterInstance:
    """``DagsterInstance.ephemeral()`` with the batched in-memory event storage (no DAGSTER_HOME)."""
    return DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=BatchedInMemoryEventLogStorage(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )


SQLITE_EVENT_LOG_YAML = """\
event_log_storage:
  module: costattr_pipeline.instance
  class: BatchedSqliteEventLogStorage
"""


def instance_yaml(kind: str, postgres_url: str | None = None) -> str:
    """A ``dagster.yaml`` for ``sqlite`` (the project's embedded storage) or ``postgres`` (production
    storage at ``postgres_url``), as the bench and the tests create their instances."""
    if kind == "sqlite":
        return SQLITE_EVENT_LOG_YAML + "telemetry:\n  enabled: false\n"
    if kind == "postgres":
        assert postgres_url, "postgres needs a postgres_url"
        storages = [("run_storage", "dagster_postgres", "PostgresRunStorage"),
                    ("event_log_storage", "costattr_pipeline.instance_postgres", "BatchedPostgresEventLogStorage"),
                    ("schedule_storage", "dagster_postgres", "PostgresScheduleStorage")]
        return "".join(f"{name}:\n  module: {module}\n  class: {class_name}\n  config:\n"
                       f"    postgres_url: {postgres_url}\n" for name, module, class_name in storages
                       ) + "telemetry:\n  enabled: false\n"
    raise ValueError(f"unknown instance kind {kind!r}")
