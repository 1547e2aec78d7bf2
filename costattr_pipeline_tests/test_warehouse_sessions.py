"""The sessions of a run share one DuckDB connection while the run holds the warehouse, each finding it as a
new connection would: no transaction, no temporary object of an earlier session; the file is free when the
run ends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from costattr_pipeline.resources.warehouse import DuckDBWarehouse, exclusive_use


def _another_process_opens(path: Path) -> bool:
    script = f"import duckdb; duckdb.connect({str(path)!r}).close()"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, check=False).returncode == 0


def test_a_held_warehouse_keeps_one_connection_and_each_session_starts_clean(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path=str(path))
    with exclusive_use(path, 0):
        with warehouse.session() as session:
            first = session.connection
            session.execute("CREATE TABLE kept (amount DECIMAL(38, 9))")
            session.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS one")
            session.connection.register("incoming", pa.table({"a": [1]}))
            session.execute("BEGIN TRANSACTION")
            session.execute("INSERT INTO kept VALUES (1.5)")  # never committed: rolled back as a close would
        with warehouse.session() as session:
            assert session.connection is first
            assert session.rows("SELECT count(*) AS n FROM kept") == [{"n": 0}]
            assert session.rows("SELECT table_name FROM duckdb_tables() WHERE temporary") == []
            assert session.rows("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal") == []
            with session.transaction():
                session.execute("INSERT INTO kept VALUES (2.25)")
        with pytest.raises(RuntimeError), warehouse.session() as session:
            raise RuntimeError("an asset failed")  # its connection is closed, not kept
        with warehouse.session() as session:
            assert session.connection is not first
            assert str(session.scalar("SELECT SUM(amount) FROM kept")) == "2.250000000"
        assert not _another_process_opens(path)  # still held by this run
    assert _another_process_opens(path)  # the hold ended: the connection is closed


def test_without_a_hold_every_session_has_its_own_connection(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    with warehouse.session() as session:
        first = session.connection
        session.execute("CREATE TABLE t (a INTEGER)")
    assert _another_process_opens(tmp_path / "warehouse.duckdb")
    with warehouse.session() as session:
        assert session.connection is not first


def test_the_kept_connection_ends_with_the_run(tmp_path: Path) -> None:
    """After a run (run_range closes it), a read-only connection of the same process opens the file, as the
    validation of an interrupted run's files does while the warehouse is still held."""
    import duckdb

    from costattr_pipeline.resources.warehouse import close_kept_connections

    path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path=str(path))
    with exclusive_use(path, 0):
        with warehouse.session() as session:
            session.execute("CREATE TABLE t (a INTEGER)")
        close_kept_connections()
        reader = duckdb.connect(str(path), read_only=True)
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
        reader.close()
