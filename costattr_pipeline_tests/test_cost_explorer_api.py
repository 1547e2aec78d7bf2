"""The live Cost Explorer reader against moto over HTTP: pages, throttling retries, 4xx fail-fast."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from costattr_pipeline.defs.ingest.cost_explorer import aws_cost_daily
from costattr_pipeline.project import Project, loading
from costattr_pipeline.lib.config import AwsSettings, Settings
from costattr_pipeline.lib.cost_explorer import parse_fetch
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerApi, CostExplorerError
from costattr_pipeline.resources.warehouse import DuckDBWarehouse
from costattr_pipeline_tests.aws_stand_ins import FaultProxy, moto_behind_proxy, queue_cost_explorer_results
from costattr_pipeline_tests.builders import group, page
from costattr_pipeline_tests.conftest import query

LOG = logging.getLogger("test")
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 3)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with moto_behind_proxy() as running:
        yield running


def _api(proxy: FaultProxy, tmp_path: Path, retries: int = 3) -> CostExplorerApi:
    return CostExplorerApi(region_name="us-east-1", endpoint_url=proxy.url, aws_access_key_id="testing",
                           aws_secret_access_key="testing", archive_dir=str(tmp_path / "fetches"),
                           retries=retries, backoff_seconds=0.01)


def _two_pages() -> list[dict]:
    return [
        page({"2026-03-01": [group("acme", "EC2", "10.5"), group(None, "VPC", "0.5")]}, next_token="page-2"),
        page({"2026-03-01": [group("globex", "S3", "3")], "2026-03-02": [group("acme", "EC2", "7")]}),
    ]


def test_pages_are_followed_and_parsed_like_exports(proxy: FaultProxy, tmp_path: Path) -> None:
    queue_cost_explorer_results(proxy, _two_pages())
    fetches = _api(proxy, tmp_path).fetches(START, END, AwsSettings(), LOG)
    assert len(fetches) == 1 and fetches[0].source_name.startswith("api/")
    assert proxy.calls == 2
    rows = parse_fetch(fetches[0].path).to_pylist()
    assert [(str(r["cost_date"]), r["tenant_id"], r["amount_usd"]) for r in rows] == [
        ("2026-03-01", "acme", Decimal("10.5")), ("2026-03-01", None, Decimal("0.5")),
        ("2026-03-01", "globex", Decimal("3")), ("2026-03-02", "acme", Decimal("7"))]


def test_throttling_and_5xx_are_retried(proxy: FaultProxy, tmp_path: Path) -> None:
    queue_cost_explorer_results(proxy, _two_pages())
    proxy.faults = [(400, "ThrottlingException"), (503, "ServiceUnavailable"), (400, "ThrottlingException")]
    fetches = _api(proxy, tmp_path).fetches(START, END, AwsSettings(), LOG)
    assert proxy.calls == 5  # 3 failures, then the two pages
    assert parse_fetch(fetches[0].path).num_rows == 4


def test_throttling_that_never_ends_is_unavailable(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults = [(400, "ThrottlingException")] * 10
    with pytest.raises(CostExplorerError) as raised:
        _api(proxy, tmp_path, retries=2).fetches(START, END, AwsSettings(), LOG)
    assert raised.value.code == "COST_EXPLORER_UNAVAILABLE"
    assert proxy.calls == 3


def test_a_4xx_fails_fast(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.faults = [(400, "AccessDeniedException")]
    with pytest.raises(CostExplorerError) as raised:
        _api(proxy, tmp_path).fetches(START, END, AwsSettings(), LOG)
    assert raised.value.code == "COST_EXPLORER_4XX"
    assert "AccessDeniedException" in str(raised.value)
    assert proxy.calls == 1


def test_landing_asset_with_the_live_reader(proxy: FaultProxy, tmp_path: Path) -> None:
    queue_cost_explorer_results(proxy, _two_pages())
    with loading(Project(Settings())):
        defs = aws_cost_daily.defs()
    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        list(defs.assets or []),
        partition_key="2026-03-01",
        resources={"warehouse": DuckDBWarehouse(path=str(warehouse)),
                   "config_files": CostattrConfig(config_dir=str(tmp_path / "config")),
                   "cost_explorer": _api(proxy, tmp_path)},
    )
    assert result.success
    rows = query(warehouse, "SELECT tenant_id, amount_usd, source_name LIKE 'api/%' FROM metering.aws_cost_daily "
                         "ORDER BY amount_usd")
    # Only the partition's day lands; the page-2 part of the same day is included.
    assert rows == [(None, Decimal("0.5"), True), ("globex", Decimal("3"), True), ("acme", Decimal("10.5"), True)]
