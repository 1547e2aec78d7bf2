"""The costattr command: validate, run and demo, and one-line errors for bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from costattr_pipeline.cli import main
from costattr_pipeline_tests.builders import group, page, write_fetch, write_config
from costattr_pipeline_tests.conftest import query


def _flags(target) -> list[str]:
    return ["--source-dir", str(target.source_dir), "--warehouse", str(target.warehouse)]


@pytest.mark.parametrize("name, body, expected", [
    ("fetch.json", '{"ResultsByTime": [', "aws_cost_explorer/fetch.json: malformed JSON"),
    ("fetch.json", '{"ResultsByTime": []}', "aws_cost_explorer/fetch.json: page 1: missing GroupDefinitions"),
])
def test_bad_source_is_one_line_error_and_nothing_is_written(target, capsys, name: str, body: str,
                                                            expected: str) -> None:
    folder = target.source_dir / "aws_cost_explorer"
    folder.mkdir()
    (folder / name).write_text(body, encoding="utf-8")
    for command in (["validate"], ["run", "--start", "2026-03-01", "--end", "2026-03-02"]):
        assert main([*command, *_flags(target)]) != 0
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0]
    assert not target.warehouse.exists()


def test_overlapping_threshold_windows_are_rejected(target, capsys) -> None:
    write_config(target.config_dir, "settings.yaml", """unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: 2026-06-01, value: 0.02}
  - {effective_from: 2026-05-01, effective_to: null, value: 0.03}
""")
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-02", *_flags(target)]) == 2
    error = capsys.readouterr().err.strip()
    assert "settings.yaml: unattributed_threshold[1]: window [2026-05-01, open) overlaps" in error
    assert not target.warehouse.exists()


def test_run_prints_a_summary(target, capsys) -> None:
    write_fetch(target.source_dir, "f.json", page({"2026-03-01": [group("acme", "EC2", "9"), group(None, "VPC", "1")]}))
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-02", *_flags(target)]) == 0
    out = capsys.readouterr().out
    assert "metering/unattributed_costs: partitions=1, rows=1, total_aws_cost_usd=10" in out
    assert "WARN: metering/unattributed_costs unattributed_share_within_threshold" in out
    assert query(target, "SELECT exceeds_threshold FROM metering.unattributed_costs") == [(True,)]


def test_run_shows_each_asset_as_it_starts_and_ends_and_one_line_per_run(target, capsys) -> None:
    write_fetch(target.source_dir, "f.json", page({"2026-03-01": [group("acme", "EC2", "9")],
                                                   "2026-03-02": [group(None, "VPC", "1")]}))
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-03", *_flags(target)]) == 0
    lines = capsys.readouterr().out.splitlines()
    started = lines.index("  metering/aws_cost_daily ...")
    ended = next(index for index, line in enumerate(lines) if line.startswith("  metering/aws_cost_daily done in "))
    assert started < ended and lines[ended].endswith(" s, 2 rows")
    assert any(line.startswith("  metering/unit_cost_allocation, metering/unit_cost_tags done in ") for line in lines)
    assert lines[1].startswith("Run 1 of 2: ") and lines[1].endswith("partitions 2026-03-01...2026-03-02")
    run_lines = [line for line in lines if line.startswith("Run 1 of 2 (2026-03-01...2026-03-02): ")]
    assert len(run_lines) == 1 and " assets, " in run_lines[0] and " checks " in run_lines[0]
    assert any(line.startswith("Run 2 of 2 (2026-03-01...2026-03-01): ") for line in lines)


def test_run_json_is_one_document_with_assets_rows_totals_and_checks(target, capsys) -> None:
    write_fetch(target.source_dir, "f.json", page({"2026-03-01": [group("acme", "EC2", "9.5"),
                                                                  group(None, "VPC", "0.5")]}))
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-02", "--json", *_flags(target)]) == 0
    document = json.loads(capsys.readouterr().out)
    assets = {asset["asset"]: asset for asset in document["assets"]}
    unattributed = assets["metering/unattributed_costs"]
    assert (unattributed["partitions"], unattributed["rows"]) == (1, 1)
    assert unattributed["totals"]["total_aws_cost_usd"] == "10" and unattributed["totals"]["unattributed_cost_usd"] == "0.500000000000"
    checks = {(check["asset"], check["check"]): check for check in document["checks"]}
    breach = checks[("metering/unattributed_costs", "unattributed_share_within_threshold")]
    assert (breach["passed"], breach["severity"], breach["failing_rows"]) == (False, "WARN", 1)
    assert [(run["first"], run["last"]) for run in document["runs"]] == [("2026-03-01", "2026-03-01")] * 2
    assert document["start"] == "2026-03-01" and document["end"] == "2026-03-02"


def test_run_quiet_prints_nothing_on_success(target, capsys) -> None:
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-02", "--quiet", *_flags(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert query(target, "SELECT COUNT(*) FROM metering.unattributed_costs") == [(0,)]


@pytest.mark.slow
def test_demo_generates_and_runs_with_the_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("costattr")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("COSTATTR_")}
    completed = subprocess.run([str(script), "demo"], cwd=tmp_path, env=environment, capture_output=True,
                               text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "metering/unattributed_costs" in completed.stdout
    warehouse = tmp_path / ".costattr" / "warehouse.duckdb"
    days = query(warehouse, "SELECT COUNT(*), SUM(CASE WHEN exceeds_threshold THEN 1 ELSE 0 END) "
                            "FROM metering.unattributed_costs")[0]
    assert days[0] >= 89 and days[1] >= 1   # three months of days, some breaches
    assert (tmp_path / "data" / "sample" / "config" / "settings.yaml").exists()
    dt.date.fromisoformat(query(warehouse, "SELECT CAST(MIN(cost_date) AS VARCHAR) FROM metering.aws_cost_daily")[0][0])
