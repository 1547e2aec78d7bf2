"""The live Cost Explorer reader against moto over HTTP: pages, botocore's retries, 4xx fail-fast."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pydantic
import pytest

from costattr_pipeline.defs.ingest.cost_explorer import aws_cost_daily
from costattr_pipeline.project import Project, loading
from costattr_pipeline.lib.config import AwsSettings, Settings
from costattr_pipeline.lib.cost_explorer import parse_fetch
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerError
from costattr_pipeline.resources.cost_explorer_api import CostExplorerApi
from costattr_pipeline.resources.warehouse import DuckDBWarehouse
from costattr_pipeline_tests.aws_stand_ins import (FaultProxy, moto_behind_proxy, queue_cost_explorer_results,
                                                   shorten_botocore_backoff)
from costattr_pipeline_tests.builders import group, page
from costattr_pipeline_tests.conftest import query

LOG = logging.getLogger("test")
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 3)


@pytest.fixture(scope="module")
def running_moto() -> Iterator[FaultProxy]:
    with moto_behind_proxy() as running:
        yield running


@pytest.fixture
def proxy(running_moto: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    shorten_botocore_backoff(monkeypatch)
    running_moto.reset()
    return running_moto


def _api(proxy: FaultProxy, tmp_path: Path, max_attempts: int = 4, **fields: str) -> CostExplorerApi:
    return CostExplorerApi(region_name="us-east-1", endpoint_url=proxy.url, aws_access_key_id="testing",
                           aws_secret_access_key="testing", archive_dir=str(tmp_path / "fetches"),
                           max_attempts=max_attempts, **fields)


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


@pytest.mark.parametrize("fault", [(400, "ThrottlingException"), (429, "TooManyRequestsException"),
                                   (429, "SomethingNoModelKnows")])
def test_a_throttled_call_is_retried_by_botocore_and_succeeds(proxy: FaultProxy, tmp_path: Path, fault,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    queue_cost_explorer_results(proxy, _two_pages())
    proxy.faults = [fault]
    with caplog.at_level(logging.WARNING, logger="test"):
        fetches = _api(proxy, tmp_path).fetches(START, END, AwsSettings(), LOG)
    assert proxy.calls == 3  # the throttled call, its retry, the second page
    assert parse_fetch(fetches[0].path).num_rows == 4
    # botocore's own count of retries, from the answer it finally returned.
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING] == [
        f"Cost Explorer at {proxy.url} answered after 1 retry (throttling or 5xx)"]


@pytest.mark.parametrize("fault", [(400, "ThrottlingException"), (429, "SomethingNoModelKnows")])
def test_throttling_that_never_ends_is_unavailable(proxy: FaultProxy, tmp_path: Path, fault) -> None:
    proxy.faults = [fault] * 10
    with pytest.raises(CostExplorerError) as raised:
        _api(proxy, tmp_path, max_attempts=3).fetches(START, END, AwsSettings(), LOG)
    assert raised.value.code == "COST_EXPLORER_UNAVAILABLE"
    assert proxy.calls == 3
    assert f"Cost Explorer at {proxy.url} still failing after 3 attempt(s) ({fault[1]}" in str(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_until_the_attempts_run_out_is_unavailable(proxy: FaultProxy, tmp_path: Path, status: int) -> None:
    proxy.faults = [(status, "InternalServerError")] * 10
    with pytest.raises(CostExplorerError) as raised:
        _api(proxy, tmp_path, max_attempts=2).fetches(START, END, AwsSettings(), LOG)
    assert raised.value.code == "COST_EXPLORER_UNAVAILABLE"
    assert "still failing after 2 attempt(s) (InternalServerError" in str(raised.value)
    assert proxy.calls == 2
    assert not (tmp_path / "fetches").exists() or not any((tmp_path / "fetches").iterdir())


def test_an_unreachable_endpoint_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    api = CostExplorerApi(endpoint_url=f"http://127.0.0.1:{closed_port}", aws_access_key_id="testing",
                          aws_secret_access_key="testing", archive_dir=str(tmp_path / "fetches"), max_attempts=2)
    with pytest.raises(CostExplorerError) as raised:
        api.fetches(START, END, AwsSettings(), LOG)
    assert raised.value.code == "COST_EXPLORER_UNAVAILABLE"
    assert f"Cost Explorer at http://127.0.0.1:{closed_port} unreachable after 2 attempt(s)" in str(raised.value)


@pytest.mark.parametrize("fault", [(400, "AccessDeniedException"), (400, "ValidationException"),
                                   (400, "DataUnavailableException"), (403, "UnrecognizedClientException"),
                                   (404, "NotFound")])
def test_a_4xx_fails_fast(proxy: FaultProxy, tmp_path: Path, fault) -> None:
    proxy.faults = [fault] * 5
    with pytest.raises(CostExplorerError) as raised:
        _api(proxy, tmp_path, max_attempts=5).fetches(START, END, AwsSettings(), LOG)
    assert raised.value.code == "COST_EXPLORER_4XX"
    assert f"Cost Explorer at {proxy.url} refused the request ({fault[1]}: injected {fault[1]})" in str(raised.value)
    assert proxy.calls == 1  # botocore did not retry it


def test_retry_mode_is_standard_by_default_and_adaptive_on_request(proxy: FaultProxy, tmp_path: Path) -> None:
    assert _api(proxy, tmp_path).boto3_client("ce").meta.config.retries == {
        "mode": "standard", "total_max_attempts": 4}
    adaptive = _api(proxy, tmp_path, max_attempts=3, retry_mode="adaptive")
    assert adaptive.boto3_client("ce").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}
    # adaptive keeps the standard retry conditions: a 5xx is retried, a 4xx is not.
    queue_cost_explorer_results(proxy, _two_pages())
    proxy.faults = [(503, "ServiceUnavailable"), (502, "BadGateway")]
    fetches = adaptive.fetches(START, END, AwsSettings(), LOG)
    assert proxy.calls == 4 and parse_fetch(fetches[0].path).num_rows == 4
    proxy.faults = [(400, "ValidationException")] * 3
    with pytest.raises(CostExplorerError, match="COST_EXPLORER_4XX"):
        adaptive.fetches(START, END, AwsSettings(), LOG)
    assert proxy.calls == 5


def test_a_retry_mode_botocore_does_not_offer_is_rejected(tmp_path: Path) -> None:
    # botocore's legacy mode retries differently per service; only the two documented modes are allowed.
    with pytest.raises(pydantic.ValidationError, match="retry_mode\n  Input should be 'standard' or 'adaptive'"):
        CostExplorerApi(retry_mode="legacy", archive_dir=str(tmp_path))


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
