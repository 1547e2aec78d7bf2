"""The warehouse resource: DuckDB locally, Snowflake in production, one interface.

Assets hand it SQL written once (see :mod:`costattr_pipeline.lib.sql`) with its parameters and
relations; the session binds them, writes the statement for its engine and wraps a window's
delete-and-insert in one transaction, so a failed run changes nothing. Everything that differs
between the engines lives here, so no asset ever asks which engine it runs on:

- source files (exports) are parsed and validated by DuckDB in a *local engine*: on the DuckDB
  warehouse that is the warehouse connection itself (a large export never passes through
  Python), on Snowflake an in-memory DuckDB whose validated rows are then sent as Arrow
  (:meth:`WarehouseSession.insert_from_local`);
- only a warehouse that can read the machine's files (DuckDB) can keep a view over an export
  instead of a copy (:attr:`WarehouseSession.reads_local_files`);
- a warehouse that is held by another process raises :class:`WarehouseBusy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
from pydantic import Field

from costattr_pipeline.lib import sql as sqltext

Params = Mapping[str, object] | None
Relations = Mapping[str, str] | None


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse (DuckDB allows one writer): try again later."""


class DdlInTransaction(RuntimeError):
    """A CREATE, DROP, ALTER or TRUNCATE ran inside a transaction on Snowflake: a programming error of costattr.

    In Snowflake every DDL statement commits the open transaction first, so what the run wrote before it
    would stay after a failure. Tables are created before a transaction begins. (DuckDB's DDL is
    transactional: the local landing of exports swaps a table for a view inside one transaction.)
    """


DDL_KEYWORDS = frozenset({"CREATE", "DROP", "ALTER", "TRUNCATE"})


def leading_keyword(statement: str) -> str:
    """The first keyword of a statement, after any leading comments, upper-cased ("" when there is none)."""
    text = statement.lstrip()
    while text.startswith(("/*", "--")):
        end = text.find("*/") + 2 if text.startswith("/*") else text.find("\n") + 1
        if end <= 1:
            return ""
        text = text[end:].lstrip()
    word = text.split(None, 1)[0] if text else ""
    return word.rstrip(";(").upper()


class WarehouseFull(RuntimeError):
    """The disk of the warehouse is full: the transaction rolled back, nothing was published."""


# The warehouses this process holds (path -> depth), so that a run holding its warehouse opens its own
# sessions without waiting for itself.
_HELD: dict[str, int] = {}
LOCK_POLL_SECONDS = 0.5


def lock_file(path: Path | str) -> Path:
    return Path(f"{path}.lock")


@contextlib.contextmanager
def exclusive_use(path: Path | str, wait_seconds: float, on_wait: Callable[[str], None] | None = None
                  ) -> Iterator[None]:
    """Hold the DuckDB warehouse at ``path`` for this process (a whole run, or one session).

    DuckDB allows one writer per file, and a run opens a session per asset: two runs interleaving their
    assets would leave a mixed state. So a run holds ``<warehouse>.lock`` (an OS lock, released even when
    the process is killed) from its first step to its last. Another process waits up to ``wait_seconds``
    (``on_wait`` is told once, with who holds it), then gets :class:`WarehouseBusy`, one line.
    """
    key = str(Path(path).absolute())
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    Path(key).parent.mkdir(parents=True, exist_ok=True)
    handle = lock_file(key).open("a+")
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(handle)
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(f"{key} is in use by another run ({holder}) and was not released within "
                                        f"{wait_seconds:g} s: try again when it ends") from None
                if on_wait is not None and not told:
                    on_wait(f"waiting up to {wait_seconds:g} s for the run that holds {key} ({holder})")
                    told = True
                time.sleep(LOCK_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        _HELD[key] = 1
        try:
            yield
        finally:
            _HELD.pop(key, None)
            _close_kept(key)  # before the lock goes: the next holder opens the file
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


# The DuckDB connection a held warehouse keeps between the sessions of its run (path -> (config, connection)).
# Opening a DuckDB file costs 40-60 ms of CPU (the database instance, its catalog) and closing it a checkpoint:
# a run opens a session per asset step, about 50 a run. While this process holds the warehouse (a whole run,
# see exclusive_use), nobody else can open the file anyway, so the sessions of the run share one connection,
# each left as a new connection would find it (see DuckDBWarehouse.session); it is closed when the hold ends.
_KEPT: dict[str, tuple[tuple[tuple[str, Any], ...], duckdb.DuckDBPyConnection]] = {}


def _close_kept(key: str) -> None:
    kept = _KEPT.pop(key, None)
    if kept is not None:
        kept[1].close()


def close_kept_connections() -> None:
    """Close the connections kept for the sessions of a run (at its end: what runs next in the process, e.g.
    validating an interrupted run's files with a read-only connection, opens the file as before)."""
    for key in list(_KEPT):
        _close_kept(key)


# A session's temporary tables and views: what closing its connection would drop.
_TEMPORARY_RELATIONS = ("SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary UNION ALL "
                        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal")


def _left_as_new(connection: duckdb.DuckDBPyConnection) -> bool:
    """End what a session left on a kept connection: an open transaction (rolled back, as closing would) and
    its temporary tables and views (dropped, as closing would). False when that cannot be done."""
    try:
        connection.rollback()
    except duckdb.TransactionException:
        pass  # no transaction open: the session committed or rolled back its own
    try:
        left = connection.execute(_TEMPORARY_RELATIONS).fetchall()
        if not left:
            return True  # most sessions leave nothing: one catalog query
        for kind, name in left:
            if kind == "VIEW":
                connection.unregister(name)  # a Python object registered as a view lets go of it; else nothing
        for kind, name in connection.execute(_TEMPORARY_RELATIONS).fetchall():  # what unregistering left
            connection.execute(f'DROP {kind} IF EXISTS temp.main."{name}"')
        return not connection.execute(_TEMPORARY_RELATIONS).fetchall()
    except duckdb.Error:
        return False


def _holder(handle) -> str:
    handle.seek(0)
    return handle.read().strip() or "another process"


@contextlib.contextmanager
def _engine_errors(path: str) -> Iterator[None]:
    """DuckDB's disk-full error as one line naming the warehouse and the free space."""
    try:
        yield
    except duckdb.Error as error:
        if "No space left on device" not in str(error):
            raise
        folder = Path(path).absolute().parent
        free = shutil.disk_usage(folder).free
        raise WarehouseFull(f"{path}: the disk is full ({free / 2**20:.1f} MiB free in {folder}): free space and "
                            "run again; the run's open transaction rolled back") from None


class WarehouseSession:
    """An open connection with the operations assets need; engine-specific parts are overridden."""

    dialect: str = sqltext.SOURCE_DIALECT
    #: Whether the warehouse can read files of this machine (a view over a Parquet export).
    reads_local_files: bool = False
    #: Whether a transaction of :meth:`transaction` is open.
    in_transaction: bool = False
    #: Whether a base table's rows have a ``rowid`` (DuckDB): a query may then rank narrow rows and
    #: fetch the wide ones it keeps by it (see ``metadata.preview_rows``).
    row_ids: bool = False

    def execute(self, text: str, params: Params = None, relations: Relations = None) -> None:
        raise NotImplementedError

    def query(self, text: str, params: Params = None, relations: Relations = None) -> pa.Table:
        raise NotImplementedError

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def local_engine(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection to parse and validate source files in (see the module docstring)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def insert_from_local(self, engine: duckdb.DuckDBPyConnection, table_name: str, select: str,
                          params: Params = None, relations: Relations = None) -> None:
        """Append the rows of ``select`` (run on the local ``engine``) to ``table_name``, matched by column name."""
        rows = engine.sql(sqltext.bind_script(select, params, relations)).to_arrow_table()
        if rows.num_rows:
            self.insert_arrow(table_name, rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN TRANSACTION")
        self.in_transaction = True
        try:
            yield
        except BaseException:
            self.in_transaction = False
            self.execute("ROLLBACK")
            raise
        self.in_transaction = False
        self.execute("COMMIT")

    def execute_privileges(self, statements: list[str]) -> None:
        """Run GRANT/REVOKE statements as written (access control is the warehouse's own SQL)."""
        raise ValueError("the local target (DuckDB) has no roles: grants apply to the prod target (Snowflake)")

    def rows(self, text: str, params: Params = None, relations: Relations = None) -> list[dict[str, Any]]:
        return self.query(text, params, relations).to_pylist()

    def scalar(self, text: str, params: Params = None, relations: Relations = None) -> Any:
        table = self.query(text, params, relations)
        return table.column(0)[0].as_py() if table.num_rows else None

    def relations_in(self, schema: str) -> dict[str, str]:
        """The tables and views of ``schema`` (lower-case name -> ``BASE TABLE`` or ``VIEW``)."""
        return {str(row["name"]).lower(): str(row["kind"]).upper() for row in self.rows(
            "SELECT table_name AS name, table_type AS kind FROM information_schema.tables "
            "WHERE UPPER(table_schema) = UPPER(:schema)", {"schema": schema})}


class DuckDBSession(WarehouseSession):
    reads_local_files = True
    row_ids = True

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: str = ":memory:"):
        self.connection = connection
        self.path = path

    def execute(self, text: str, params: Params = None, relations: Relations = None) -> None:
        # DuckDB runs a multi-statement script in one call; the result is drained so
        # the connection is free for the next statement.
        with _engine_errors(self.path):
            self.connection.execute(sqltext.bind_script(text, params, relations)).fetchall()

    def query(self, text: str, params: Params = None, relations: Relations = None) -> pa.Table:
        *before, last = sqltext.bind(text, params, relations)
        with _engine_errors(self.path):
            for statement in before:
                self.connection.execute(statement).fetchall()
            return self.connection.sql(last).to_arrow_table()

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        self.connection.register("_costattr_incoming", rows)
        try:
            with _engine_errors(self.path):
                self.connection.execute(
                    f"INSERT INTO {table_name} BY NAME SELECT * FROM _costattr_incoming").fetchall()
        finally:
            self.connection.unregister("_costattr_incoming")

    @contextlib.contextmanager
    def local_engine(self) -> Iterator[duckdb.DuckDBPyConnection]:
        yield self.connection  # the warehouse itself: files are read where the rows will land

    def insert_from_local(self, engine: duckdb.DuckDBPyConnection, table_name: str, select: str,
                          params: Params = None, relations: Relations = None) -> None:
        if engine is not self.connection:
            super().insert_from_local(engine, table_name, select, params, relations)
            return
        query = sqltext.bind_script(select, params, relations)
        with _engine_errors(self.path):
            self.connection.execute(f"INSERT INTO {table_name} BY NAME ({query})").fetchall()


class SnowflakeSession(WarehouseSession):
    dialect = "snowflake"

    def __init__(self, connection: Any):
        self.connection = connection

    def _run(self, text: str, params: Params, relations: Relations) -> Any:
        cursor = self.connection.cursor()
        statements = sqltext.bind(text, params, relations, dialect=self.dialect)
        self._refuse_ddl_in_transaction(statements)
        for statement in statements:
            cursor.execute(statement)
        return cursor

    def _refuse_ddl_in_transaction(self, statements: list[str]) -> None:
        if not self.in_transaction:
            return
        for statement in statements:
            keyword = leading_keyword(statement)
            if keyword in DDL_KEYWORDS:
                raise DdlInTransaction(f"{keyword} inside a transaction (run it before BEGIN): "
                                       f"{' '.join(statement.split())[:160]}")

    def execute(self, text: str, params: Params = None, relations: Relations = None) -> None:
        self._run(text, params, relations)

    def query(self, text: str, params: Params = None, relations: Relations = None) -> pa.Table:
        cursor = self._run(text, params, relations)
        names = [column[0].lower() for column in cursor.description]
        fetched = cursor.fetchall()
        return pa.table({name: [row[index] for row in fetched] for index, name in enumerate(names)})

    def execute_privileges(self, statements: list[str]) -> None:
        cursor = self.connection.cursor()
        for statement in statements:
            cursor.execute(statement)

    def relations_in(self, schema: str) -> dict[str, str]:
        # Snowflake lists views in information_schema.tables; fakesnow (the tests' Snowflake) lists them only in
        # information_schema.views, so both are asked.
        relations = super().relations_in(schema)
        relations.update({str(row["name"]).lower(): "VIEW" for row in self.rows(
            "SELECT table_name AS name FROM information_schema.views WHERE UPPER(table_schema) = UPPER(:schema)",
            {"schema": schema})})
        return relations

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        columns = ", ".join(rows.column_names)
        placeholders = ", ".join(["%s"] * rows.num_columns)
        cursor = self.connection.cursor()
        # executemany is batched into multi-row INSERTs by the connector.
        cursor.executemany(f"INSERT INTO {table_name} ({columns}) VALUES ({placeholders})",
                           [tuple(row.values()) for row in rows.to_pylist()])

    @contextlib.contextmanager
    def local_engine(self) -> Iterator[duckdb.DuckDBPyConnection]:
        engine = duckdb.connect()
        try:
            engine.execute("SET TimeZone = 'UTC'")
            yield engine
        finally:
            engine.close()


class Warehouse(dg.ConfigurableResource):
    """Where costattr keeps its tables. Subclasses pick the engine."""

    @contextlib.contextmanager
    def session(self, wait_seconds: float | None = None) -> Iterator[WarehouseSession]:
        """An open session; ``wait_seconds`` bounds the wait for another process's run (local engines)."""
        raise NotImplementedError
        yield  # pragma: no cover


class DuckDBWarehouse(Warehouse):
    """The embedded default: one DuckDB file (single writer, so runs go one at a time)."""

    path: str = Field(description="DuckDB file, e.g. .costattr/warehouse.duckdb")
    memory_limit: str | None = Field(default=None, description="DuckDB memory_limit, e.g. '4GB'")
    threads: int | None = Field(default=None, description="DuckDB worker threads")
    lock_wait_seconds: float = Field(default=60, description="How long a session waits for a run of another "
                                                             "process to release the warehouse")

    @contextlib.contextmanager
    def session(self, wait_seconds: float | None = None) -> Iterator[WarehouseSession]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        wait = self.lock_wait_seconds if wait_seconds is None else wait_seconds
        key = str(Path(self.path).absolute())
        held_by_run = bool(_HELD.get(key))  # a run holds the warehouse: its sessions share one connection
        settings = tuple(sorted(config.items()))
        with exclusive_use(self.path, wait):
            kept = _KEPT.pop(key, None) if held_by_run else None
            if kept is not None and kept[0] != settings:
                kept[1].close()
                kept = None
            connection = kept[1] if kept is not None else None
            if connection is None:
                try:
                    connection = duckdb.connect(self.path, config=config)
                except duckdb.IOException as error:  # locked by a process that is not costattr's
                    raise WarehouseBusy(f"{self.path}: {str(error).splitlines()[0]}") from None
            keep = False
            try:
                # A day is a UTC day everywhere (and views over exports cast timestamps in this zone).
                connection.execute("SET TimeZone = 'UTC'")
                yield DuckDBSession(connection, self.path)
                keep = held_by_run
            finally:
                if keep and _left_as_new(connection):
                    _KEPT[key] = (settings, connection)
                else:
                    connection.close()
