"""What people see, in a real browser: every month's report draws all its charts, and the Dagster UI
(``dagster dev`` on a demo warehouse) shows each partition its own figures and runs a 10-day backfill as
one run.

Headless Chromium is Debian's ``chromium`` package, driven by Playwright (which never downloads a
browser of its own here). ``make test`` installs the package when it is missing; where it is absent
(a laptop) these tests skip and say why, except on CI, where they must run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import dagster as dg
import pytest

from costattr_pipeline.runner import run_range
from costattr_pipeline.sample import generate_sample
from costattr_pipeline.target import Target
from costattr_pipeline_tests.conftest import query

REPOSITORY = Path(__file__).parents[1]
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
UNATTRIBUTED = ["metering", "unattributed_costs"]
# Bounds on waiting for other processes (a server starting, a daemon picking up a backfill), not timings.
SERVER_START_LIMIT = 240
BACKFILL_LIMIT = 420


def _browser_or_skip():
    """Playwright's Chromium launcher pointed at Debian's chromium, or a skip (a failure on CI) saying why."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright is not installed (make install installs the dev dependencies)"
    if reason is None and not CHROMIUM.exists():
        reason = ("Chromium is not installed: `apt-get install chromium` (make test installs it when run as root) "
                  "to run the browser tests")
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def sync_playwright():
    return _browser_or_skip()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, sync_playwright) -> tuple[Target, object]:
    """The demo data set run end to end (every asset, every month's report), as `costattr demo` does."""
    root = tmp_path_factory.mktemp("demo")
    period = generate_sample(root / "source")
    target = Target.resolve("local", str(root / "source"), None, str(root / "warehouse.duckdb"))
    with dg.instance_for_test() as instance:
        run_range(target, period.start, period.end, instance=instance)
    return target, period


def _months(period) -> list[dt.date]:
    months, month = [], period.start
    while month < period.end:
        months.append(month)
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def test_every_demo_month_report_draws_every_chart(demo, sync_playwright) -> None:
    target, period = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for month in _months(period):
                page = browser.new_page()
                errors: list[str] = []
                page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
                page.on("pageerror", lambda error: errors.append(str(error)))
                requests: list[str] = []
                page.on("request", lambda request: requests.append(request.url))
                page.goto((target.reports_dir / f"{month:%Y-%m}.html").as_uri())
                page.wait_for_function("document.body.dataset.charts !== 'pending'", timeout=60_000)
                assert page.evaluate("document.body.dataset.charts") == "rendered", errors
                charts = page.evaluate("""Array.from(document.querySelectorAll('.chart')).map(chart =>
                    [chart.id, chart.querySelectorAll('svg, canvas').length, chart.querySelectorAll('path').length])""")
                assert len(charts) == 7 and all(drawn >= 1 and marks > 0 for _, drawn, marks in charts), charts
                assert errors == []
                assert all(url.startswith("file://") for url in requests), requests  # nothing from a network
                page.close()
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _graphql(port: int, document: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": document, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body["errors"]
    return body["data"]


def _wait_for(condition, limit: float, what: str):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"gave up waiting for {what} after {limit} s")


@pytest.fixture(scope="module")
def ui(demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Target, object]]:
    """`dagster dev` over the demo warehouse, with the unattributed share recorded in its instance."""
    target, period = demo
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPOSITORY / "dagster.yaml", home / "dagster.yaml")
    # The project's dagster.yaml keeps Dagster's event files under $DAGSTER_HOME, as `dagster dev` will.
    with mock.patch.dict(os.environ, {"DAGSTER_HOME": str(home)}), dg.DagsterInstance.from_config(str(home)) as instance:
        run_range(target, period.start, period.end, instance=instance,
                  selection=["metering/aws_cost_daily", "metering/unattributed_costs"])
    port = _free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("COSTATTR_")}
    environment.update(DAGSTER_HOME=str(home), COSTATTR_SOURCE_DIR=str(target.source_dir),
                       COSTATTR_WAREHOUSE=str(target.warehouse), COSTATTR_REPORTS_DIR=str(target.reports_dir))
    log = (home / "dagster-dev.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml",
                               "-h", "127.0.0.1", "-p", str(port)], cwd=REPOSITORY, env=environment, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return True
        except OSError:
            assert server.poll() is None, (home / "dagster-dev.log").read_text()
            return False

    try:
        _wait_for(answers, SERVER_START_LIMIT, "dagster dev to answer")
        yield port, target, period
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # dagster dev and the processes it started
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


PARTITION_METADATA = """
query ($key: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetMaterializations(partitions: $partitions, limit: 1) {
        partition
        metadataEntries {
          label
          ... on FloatMetadataEntry { floatValue }
          ... on IntMetadataEntry { intValue }
          ... on TextMetadataEntry { text }
        }
      }
    }
  }
}"""


def _entries(port: int, partition: str) -> dict[str, object]:
    data = _graphql(port, PARTITION_METADATA, {"key": {"path": UNATTRIBUTED}, "partitions": [partition]})
    [materialization] = data["assetOrError"]["assetMaterializations"]
    assert materialization["partition"] == partition
    return {entry["label"]: entry.get("floatValue", entry.get("intValue", entry.get("text")))
            for entry in materialization["metadataEntries"]}


def test_the_ui_shows_each_partition_its_own_figures(ui, sync_playwright) -> None:
    port, target, period = ui
    assert _graphql(port, "mutation { setNuxSeen }")["setNuxSeen"] is True  # no first-visit popup
    days = query(target, "SELECT CAST(cost_date AS VARCHAR), CAST(total_aws_cost_usd AS VARCHAR), "
                         "CAST(unattributed_share AS DOUBLE) FROM metering.unattributed_costs ORDER BY cost_date")
    assert len(days) == (period.end - period.start).days
    for day, total, share in (days[0], days[len(days) // 2], days[-1]):
        entries = _entries(port, day)
        assert entries["total_aws_cost_usd_exact"].rstrip("0").rstrip(".") == total.rstrip("0").rstrip(".")
        assert entries["unattributed_share"] == pytest.approx(share)
        assert entries["dagster/partition_row_count"] == 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            day = days[len(days) // 2][0]
            page.goto(f"http://127.0.0.1:{port}/assets/{'/'.join(UNATTRIBUTED)}?view=partitions&partition={day}")
            page.get_by_text("total_aws_cost_usd_exact").first.wait_for(timeout=120_000)
            assert page.get_by_role("dialog").count() == 0
        finally:
            browser.close()


LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
BACKFILL = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 20) { runId status tags { key value } } }
  }
}"""


def test_a_ten_day_backfill_from_the_ui_runs_as_one_run(ui) -> None:
    port, _, period = ui
    days = [(period.start + dt.timedelta(days=offset)).isoformat() for offset in range(10, 20)]
    launched = _graphql(port, LAUNCH_BACKFILL, {"params": {
        "partitionNames": days, "assetSelection": [{"path": UNATTRIBUTED}], "fromFailure": False}})
    assert launched["launchPartitionBackfill"]["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["launchPartitionBackfill"]["backfillId"]

    def finished():
        backfill = _graphql(port, BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        done = backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")
        return backfill if done and backfill["runs"] and all(
            run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in backfill["runs"]) else None

    backfill = _wait_for(finished, BACKFILL_LIMIT, "the backfill's run to end")
    [run] = backfill["runs"]
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert run["status"] == "SUCCESS", backfill
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        days[0], days[-1])
