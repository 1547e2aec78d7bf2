"""A backfill through the production instance: docs/deploy/dagster.yaml on a real local PostgreSQL server.

The server is Debian's ``postgresql`` (``make test`` installs it when run as root, as CI does); where it
is not installed the test says so and skips.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from costattr_pipeline.bench.postgres_server import PostgresUnavailable, local_postgres, server_programs
from costattr_pipeline.instance import ephemeral_instance
from costattr_pipeline.runner import run_range
from costattr_pipeline.target import Target
from costattr_pipeline_tests.test_instance import D1, D2, D3, DAILY_ASSETS, END, START, _fetch, _recorded

REPOSITORY = Path(__file__).parents[1]


@pytest.fixture
def postgres_url():
    try:
        server_programs()
        with local_postgres() as url:
            yield url
    except PostgresUnavailable as reason:
        pytest.skip(f"no local PostgreSQL server: {reason}")


def test_a_backfill_through_the_production_instance_on_postgresql(target, tmp_path, monkeypatch,
                                                                  postgres_url) -> None:
    _fetch(target)
    # What the in-memory instance records of the same backfill, on a second copy of the sources.
    shutil.copytree(target.source_dir, tmp_path / "second" / "source")
    second = Target.resolve("local", str(tmp_path / "second" / "source"), None,
                            str(tmp_path / "second" / "warehouse.duckdb"))
    memory = ephemeral_instance()
    try:
        expected = _recorded(memory, run_range(second, START, END, instance=memory).run_ids, second)
    finally:
        memory.dispose()
    # The documented production dagster.yaml, its credentials from the environment.
    url = make_url(postgres_url)
    for name, value in {"DAGSTER_PG_HOST": url.host, "DAGSTER_PG_PORT": str(url.port), "DAGSTER_PG_DB": url.database,
                        "DAGSTER_PG_USERNAME": url.username, "DAGSTER_PG_PASSWORD": ""}.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPOSITORY / "docs" / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.get()
    try:
        assert type(instance.event_log_storage).__name__ == "BatchedPostgresEventLogStorage"
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        summary = run_range(target, START, END, instance=instance)
        got = _recorded(instance, summary.run_ids, target)
        runs = [instance.get_run_by_id(run_id) for run_id in summary.run_ids]
        assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
    finally:
        instance.dispose()
    assert got == expected
    for asset in DAILY_ASSETS:
        assert got[f"{asset} materialized"] == [D1, D2, D3]
    rows = {day: got["metering/aws_cost_daily partitions"][day]["dagster/partition_row_count"] for day in (D1, D2, D3)}
    assert rows == {D1: 3, D2: 2, D3: 2}
    assert len(got["checks"]) == len(summary.checks) > 0
