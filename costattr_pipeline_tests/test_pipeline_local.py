"""The Cost Explorer stages end to end on DuckDB, through the same Definitions the UI uses."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import pytest

from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline_tests.builders import group, page, write_fetch
from costattr_pipeline_tests.conftest import dump_tables, query

D1, D2, D3 = "2026-03-01", "2026-03-02", "2026-03-03"


def _first_fetch(target) -> None:
    write_fetch(target.source_dir, "fetch-2026-03-03.json", [
        page({D1: [group("acme", "EC2", "60"), group("globex", "S3", "39"), group(None, "VPC", "1")],
              D2: [group("acme", "EC2", "14.7")]}, next_token="p2"),
        page({D2: [group(None, "VPC", "0.1"), group(None, "S3", "0.2")],     # 0.3 / 15 = exactly 2 %
              D3: [group("acme", "EC2", "90"), group(None, "VPC", "10")]}, estimated=True),
    ])


def _restatement(target) -> None:
    # Two days later Cost Explorer restates D3 only (no longer estimated).
    write_fetch(target.source_dir, "fetch-2026-03-05.json",
                page({D3: [group("acme", "EC2", "99"), group(None, "VPC", "1")]}))


def _unattributed(target) -> list[tuple]:
    return query(target, "SELECT CAST(cost_date AS VARCHAR), total_aws_cost_usd, unattributed_cost_usd, "
                         "unattributed_share, threshold_used, exceeds_threshold "
                         "FROM metering.unattributed_costs ORDER BY cost_date")


def test_unattributed_costs_follow_the_contract(target) -> None:
    _first_fetch(target)
    _restatement(target)
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert _unattributed(target) == [
        (D1, Decimal("100"), Decimal("1"), Decimal("0.01"), Decimal("0.02"), False),
        (D2, Decimal("15"), Decimal("0.3"), Decimal("0.02"), Decimal("0.02"), False),  # equal is not over
        (D3, Decimal("100"), Decimal("1"), Decimal("0.01"), Decimal("0.02"), False),   # restated figures
    ]
    # The landing keeps every row ever loaded; the latest view keeps the restatement only.
    assert query(target, "SELECT COUNT(*) FROM metering.aws_cost_daily WHERE cost_date = '2026-03-03'") == [(4,)]
    assert query(target, "SELECT SUM(amount_usd), bool_or(estimated) FROM metering.aws_cost_latest "
                         "WHERE cost_date = '2026-03-03'") == [(Decimal("100"), False)]
    checks = {(asset, check): passed for asset, check, passed, _ in summary.checks}
    assert checks[("metering/unattributed_costs", "reconciles_with_landing")] is True
    assert checks[("metering/unattributed_costs", "unattributed_share_within_threshold")] is True


def test_breach_fails_the_warn_check_and_is_recorded_once(target) -> None:
    _first_fetch(target)  # D3: 10 / 100 = 10 % > 2 %
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    checks = {check: (passed, severity) for _, check, passed, severity in summary.checks}
    assert checks["unattributed_share_within_threshold"] == (False, "WARN")
    alerts = query(target, "SELECT alert_id, check_name, CAST(subject_date AS VARCHAR), payload, sent_to, status "
                           "FROM metering.alerts")
    assert len(alerts) == 1
    alert_id, check_name, subject_date, payload, sent_to, status = alerts[0]
    assert (check_name, subject_date, sent_to, status) == ("unattributed_share_within_threshold", D3, "log", "sent")
    assert json.loads(payload) == {
        "alert_id": alert_id, "check_name": "unattributed_share_within_threshold", "cost_date": D3,
        "total_aws_cost_usd": "100.000000000000", "unattributed_cost_usd": "10.000000000000",
        "unattributed_share": "0.100000000000", "threshold": "0.020000"}
    # A second evaluation of the same breach records nothing new.
    run_range(target, dt.date(2026, 3, 3), dt.date(2026, 3, 4))
    assert query(target, "SELECT alert_id FROM metering.alerts") == [(alert_id,)]


def test_rerun_leaves_identical_tables_and_a_copy_under_another_name_lands_once(target) -> None:
    _first_fetch(target)
    _restatement(target)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    first = dump_tables(target)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert dump_tables(target) == first
    # The same bytes under another name are a delivery of their own (issue 16: the newest delivery of a day
    # wins, even with bytes seen before): landed once, with the same figures. It sorts before the original
    # ('-' < '.'), which still counts.
    copy = target.source_dir / "aws_cost_explorer" / "fetch-2026-03-03-copy.json"
    copy.write_bytes((target.source_dir / "aws_cost_explorer" / "fetch-2026-03-03.json").read_bytes())
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    copied = dump_tables(target)
    assert query(target, "SELECT source_name, COUNT(*) FROM metering.aws_cost_daily GROUP BY 1 ORDER BY 1") == [
        ("fetch-2026-03-03-copy.json", 8), ("fetch-2026-03-03.json", 8), ("fetch-2026-03-05.json", 2)]
    assert query(target, "SELECT DISTINCT source_name FROM metering.aws_cost_day_rows ORDER BY 1") == [
        ("fetch-2026-03-03.json",), ("fetch-2026-03-05.json",)]
    for figures in ("metering.unattributed_costs", "metering.daily_tenant_summary"):
        assert copied[figures] == first[figures]
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert dump_tables(target) == copied


def test_a_failed_run_leaves_the_warehouse_as_it_was(target) -> None:
    _first_fetch(target)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    before = dump_tables(target)
    _restatement(target)
    (target.source_dir / "aws_cost_explorer" / "fetch-2026-03-06.json").write_text('[{"GroupDefinitions": [',
                                                                                     encoding="utf-8")
    with pytest.raises(RunFailed, match=r"aws_cost_explorer/fetch-2026-03-06.json: malformed JSON"):
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert dump_tables(target) == before


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_share_equal_to_threshold_never_exceeds_whatever_the_group_order(target, seed: int) -> None:
    groups = [group("acme", "EC2", "4.9"), group("acme", "S3", "4.8"), group(None, "VPC", "0.1"),
              group(None, "S3", "0.1"), group("globex", "RDS", "0.1")]   # 0.2 / 10 = 2 %
    random.Random(seed).shuffle(groups)
    write_fetch(target.source_dir, "f.json", page({D1: groups}))
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert _unattributed(target) == [(D1, Decimal("10"), Decimal("0.2"), Decimal("0.02"), Decimal("0.02"), False)]


def test_missing_source_folder_gives_empty_outputs_and_a_warning(target) -> None:
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    checks = {check: passed for _, check, passed, _ in summary.checks}
    assert checks["cost_explorer_source_present"] is False
    assert query(target, "SELECT COUNT(*) FROM metering.unattributed_costs") == [(0,)]


def _parsed(summary) -> int:
    return int(next(a for a in summary.assets if a.asset == "metering/aws_cost_daily").metadata["run_fetches_parsed"])


def test_unchanged_landed_fetches_are_not_parsed_again(target) -> None:
    _first_fetch(target)
    assert _parsed(run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))) == 1
    assert _parsed(run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))) == 0
    # A fetch registered for other days is parsed when a run covers days it holds but did not land.
    _restatement(target)
    assert _parsed(run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2))) == 1   # no day of it in window
    assert _parsed(run_range(target, dt.date(2026, 3, 3), dt.date(2026, 3, 4))) == 1
    assert _unattributed(target)[-1][1:3] == (Decimal("100"), Decimal("1"))
    # A file rewritten in place (same name, new bytes) is a new load and restates its day.
    write_fetch(target.source_dir, "fetch-2026-03-05.json",
                page({D3: [group("acme", "EC2", "80"), group(None, "VPC", "20")]}))
    assert _parsed(run_range(target, dt.date(2026, 3, 3), dt.date(2026, 3, 4))) == 1
    assert _unattributed(target)[-1][1:3] == (Decimal("100"), Decimal("20"))


def test_a_fetch_saved_as_one_response_over_the_read_limit_lands(target) -> None:
    """The read fails inside the landing transaction; the landing runs again with the file's size as limit."""
    from costattr_pipeline.lib.cost_explorer import PAGE_SIZE_LIMIT

    response = page({day: [group("acme", "EC2", "30"), group(None, "VPC", "0.5")] for day in (D1, D2, D3)})
    response["DimensionValueAttributes"] = [{"Value": "x" * PAGE_SIZE_LIMIT}]  # not read, but parsed
    write_fetch(target.source_dir, "fetch-2026-03-04.json", response)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert [row[1:3] for row in _unattributed(target)] == [(Decimal("30.5"), Decimal("0.5"))] * 3
