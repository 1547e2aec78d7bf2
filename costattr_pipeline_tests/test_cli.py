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


# --- A run validates what it computes (issue 15) -------------------------------------------------------------

RATE_CARD_FROM_2026 = """\
versions:
  - version: "2026.1"
    effective_from: 2026-01-01
    effective_to: null
    currency: USD
    customer_levy: {standard: 300.00}
    facility_fee: {}
    variable: {}
"""
# acme has been billable since mid-2025, long before the first rate-card version.
TENANTS_SINCE_2025 = """\
tiers:
  standard: {included: {}}
tenants:
  acme:
    tiers: [{tier: standard, effective_from: 2025-06-01, effective_to: null}]
"""


def _history_before_the_rate_card(target) -> None:
    write_config(target.config_dir, "settings.yaml", "partitions_start: 2025-01-01\n")
    write_config(target.config_dir, "rate_card.yaml", RATE_CARD_FROM_2026)
    write_config(target.config_dir, "tenants.yaml", TENANTS_SINCE_2025)
    write_fetch(target.source_dir, "f.json", page({"2026-03-01": [group("acme", "EC2", "9")]}))


def test_a_run_over_months_with_a_rate_card_version_succeeds_with_earlier_billable_tenants(target, capsys) -> None:
    _history_before_the_rate_card(target)
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-02", *_flags(target)]) == 0
    assert query(target, "SELECT tenant_id, period_start, customer_levy FROM metering.billing_period_summary") == [
        ("acme", dt.date(2026, 3, 1), 300)]


def test_a_run_over_a_month_without_a_version_fails_with_one_line_and_writes_nothing(target, capsys) -> None:
    _history_before_the_rate_card(target)
    assert main(["run", "--start", "2025-06-01", "--end", "2025-06-02", *_flags(target)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("rate_card.yaml: period 2025-06: no rate-card version is in force on 2025-06-01, the "
                             "period start, but tenant 'acme' is billable in it (" + str(target.config_dir /
                             "tenants.yaml") + ": tenants.acme)")
    assert not target.warehouse.exists()


def test_validate_reports_every_period_and_which_runs_each_problem_blocks(target, capsys) -> None:
    _history_before_the_rate_card(target)
    assert main(["validate", *_flags(target)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.rsplit("(", 1)[-1] for line in lines] == [f"blocks runs over 2025-{month:02d})" for month in range(6, 13)]
    # Narrowed to a range with a version in force, nothing blocks.
    assert main(["validate", "--start", "2026-03-01", "--end", "2026-04-01", *_flags(target)]) == 0
    assert "are valid for [2026-03-01, 2026-04-01)" in capsys.readouterr().out


def test_a_bad_row_outside_the_runs_days_does_not_block_it(target, capsys) -> None:
    usage = Path(target.source_dir) / "usage"
    usage.mkdir(parents=True)
    (usage / "usage_events.csv").write_text(
        "event_id,tenant_id,module_id,metric,quantity,event_time\n"
        "e1,acme,,api_calls,-5,2026-02-10T10:00:00\n"      # bad, but in February
        "e2,acme,,api_calls,7,2026-03-01T10:00:00\n", encoding="utf-8")
    assert main(["run", "--start", "2026-03-01", "--end", "2026-03-02", *_flags(target)]) == 0
    assert query(target, "SELECT event_id, quantity FROM metering.usage_events") == [("e2", 7)]
    assert main(["run", "--start", "2026-02-01", "--end", "2026-03-02", *_flags(target)]) == 2
    assert "usage/usage_events.csv: line 2: column 'quantity' must not be negative" in capsys.readouterr().err
