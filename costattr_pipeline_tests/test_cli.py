"""The costattr command: validate, run and demo, and one-line errors for bad input."""

from __future__ import annotations

import datetime as dt
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
    assert "metering/unattributed_costs: row_count=1" in out
    assert "WARN: metering/unattributed_costs unattributed_share_within_threshold" in out
    assert query(target, "SELECT exceeds_threshold FROM metering.unattributed_costs") == [(True,)]


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
