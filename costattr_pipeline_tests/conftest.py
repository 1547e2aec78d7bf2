"""Shared fixtures: a target with temporary source/config folders and DuckDB file, and warehouse access."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from costattr_pipeline.target import Target

warnings.filterwarnings("ignore", module="dagster")

SETTINGS = """\
partitions_start: 2026-01-01
unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: null, value: 0.02}
"""


@pytest.fixture(autouse=True)
def _no_stale_dagster_instance() -> Iterator[None]:
    """Start each test with no "current" defs-state storage.

    Dagster keeps the storage of the last instance created in a context variable that
    holds only a weak reference to its instance; when instances are disposed out of
    order (tests, in-process runs) it can point at a dead one, and resolving a
    Definitions' repository then fails at random. Tests that need an instance create one.
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    """A local target in a temporary folder, with a minimal settings.yaml."""
    source = tmp_path / "source"
    (source / "config").mkdir(parents=True)
    (source / "config" / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    for name in ("COSTATTR_TARGET", "COSTATTR_SOURCE_DIR", "COSTATTR_CONFIG_DIR", "COSTATTR_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    return Target.resolve("local", str(source), None, str(tmp_path / "warehouse.duckdb"))


def query(target: Target | Path, sql: str) -> list[tuple]:
    """Read the warehouse file of ``target`` (or a DuckDB path), read-only, after the run closed it."""
    path = target if isinstance(target, Path) else target.warehouse
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def dump_tables(target: Target) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, so two warehouse states can be compared for equality."""
    if not Path(target.warehouse).exists():
        return {}
    connection = duckdb.connect(str(target.warehouse), read_only=True)
    try:
        tables = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()
        return {name: sorted(connection.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
                for (name,) in tables}
    finally:
        connection.close()


def latest_materializations(instance, key) -> dict[str, dict]:
    """The latest materialization of each partition of ``key``, as its metadata values."""
    latest: dict[str, dict] = {}
    for record in instance.fetch_materializations(key, limit=100).records:  # newest first
        materialization = record.asset_materialization
        latest.setdefault(materialization.partition,
                          {name: value.value for name, value in materialization.metadata.items()})
    return latest


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def fakesnow_connection() -> Iterator[object]:
    """A Snowflake connection served by fakesnow (Snowflake SQL executed locally; see snowflake_stand_in)."""
    import snowflake.connector

    from costattr_pipeline_tests.snowflake_stand_in import fakesnow_account

    with fakesnow_account():
        connection = snowflake.connector.connect(database="COSTATTR", schema="PUBLIC")
        connection.cursor().execute("CREATE DATABASE IF NOT EXISTS COSTATTR")
        yield connection
        connection.close()
