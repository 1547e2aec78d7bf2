"""The monthly cost report: its figures, a page that needs no network, one file per month from the asset."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import dagster as dg

from costattr_pipeline.lib.cost_report import MonthData, headline, month_figures, render_report, summary_markdown
from costattr_pipeline.runner import run_range
from costattr_pipeline_tests.builders import group, page, write_fetch
from costattr_pipeline_tests.conftest import latest_materializations

REPORT = dg.AssetKey(["reports", "monthly_cost_report"])
D = Decimal


def _month() -> MonthData:
    return MonthData(
        month=dt.date(2026, 3, 1),
        daily_cost=[{"cost_date": dt.date(2026, 3, 1), "resource_type": "aws", "cost_usd": D("100.005")},
                    {"cost_date": dt.date(2026, 3, 2), "resource_type": "snowflake", "cost_usd": D("20")}],
        tenant_cost=[{"tenant_id": "acme", "resource_type": "aws", "cost_usd": D("90")},
                     {"tenant_id": None, "resource_type": "aws", "cost_usd": D("10.005")},
                     {"tenant_id": "acme", "resource_type": "snowflake", "cost_usd": D("20")}],
        unattributed=[{"cost_date": dt.date(2026, 3, 1), "total_aws_cost_usd": D("100"),
                       "unattributed_cost_usd": D("10"), "unattributed_share": D("0.1"),
                       "threshold_used": D("0.02"), "exceeds_threshold": True},
                      {"cost_date": dt.date(2026, 3, 2), "total_aws_cost_usd": D("200"),
                       "unattributed_cost_usd": D("2"), "unattributed_share": D("0.01"),
                       "threshold_used": D("0.02"), "exceeds_threshold": False}],
        economics=[{"tenant_id": "acme", "revenue": D("300.00"), "attributed_cost": D("110"),
                    "gross_margin": D("190"), "gross_margin_pct": D("63.3333")}],
        warehouses=[{"warehouse_name": "WH_ACME", "credits": D("8"), "cost_usd": D("20")}],
        products=[{"product_id": None, "cost_usd": D("1.5")}],
        failed_checks=[{"asset": "metering/unattributed_costs", "check": "unattributed_share_within_threshold",
                        "severity": "WARN", "partitions": "2026-03-01 to 2026-03-02", "failing_rows": 1,
                        "description": "1 day(s) over the <threshold>"}])


def test_the_month_figures_are_exact_and_shown_in_cents_half_away_from_zero() -> None:
    figures = month_figures(_month())
    assert figures["total_cost_usd"] == D("120.005") and figures["unattributed_cost_usd"] == D("10.005")
    assert figures["aws_unattributed_share"] == D(12) / D(300)   # the month's, not an average of days
    assert (figures["days_over_threshold"], figures["tenants"], figures["failed_checks"]) == (1, 1, 1)
    rows = dict(headline(_month()))
    assert rows["total cost (USD)"] == "120.01" and rows["unattributed cost (USD)"] == "10.01"
    assert rows["AWS unattributed share"] == "4.00 %" and rows["gross margin (USD)"] == "190.00"
    assert "| snowflake (USD) | 20.00 |" in summary_markdown(_month())


def test_the_page_carries_its_javascript_and_every_chart() -> None:
    page_html = render_report(_month(), dt.datetime(2026, 4, 1, 9, 30))
    assert not re.search(r"<script[^>]+src=", page_html) and "<link" not in page_html  # nothing to fetch
    assert "window.vegaEmbed=" in page_html and "University of Washington Interactive Data Lab" in page_html
    assert page_html.count('class="chart"') == 7
    assert "1 day(s) over the &lt;threshold&gt;" in page_html        # text from checks is escaped
    assert "<title>Cost report March 2026</title>" in page_html


def test_each_month_gets_its_own_file_figures_and_failed_checks(target) -> None:
    write_fetch(target.source_dir, "f.json", page({
        "2026-02-28": [group("acme", "EC2", "90"), group(None, "VPC", "10")],   # over the threshold
        "2026-03-01": [group("acme", "EC2", "50")]}))
    with dg.instance_for_test() as instance:
        summary = run_range(target, dt.date(2026, 2, 28), dt.date(2026, 3, 2), instance=instance)
        months = latest_materializations(instance, REPORT)
        february, march = months["2026-02-01"], months["2026-03-01"]
        assert summary.files == [str(target.reports_dir / "2026-02.html"), str(target.reports_dir / "2026-03.html")]
        assert february["report"] == str(target.reports_dir / "2026-02.html")
        assert (february["total_cost_usd"], february["days_over_threshold"]) == (100.0, 1)
        assert (march["total_cost_usd"], march["days_over_threshold"], march["aws_unattributed_share"]) == (50.0, 0, 0)
        assert "| total cost (USD) | 50.00 |" in march["summary"]
        # The run over both months failed the WARN check: both pages list it with the days it covered
        # (beside the WARN checks of the sources this test does not give).
        for month in ("2026-02", "2026-03"):
            text = (target.reports_dir / f"{month}.html").read_text(encoding="utf-8")
            assert "<td>unattributed_share_within_threshold</td><td>WARN</td><td>2026-02-28 to 2026-03-01</td>" in text
        # A later run over March alone passes it: March's page no longer lists it, February's is untouched.
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2), instance=instance)
        assert latest_materializations(instance, REPORT)["2026-03-01"]["failed_checks"] == march["failed_checks"] - 1
    assert "unattributed_share_within_threshold" not in (target.reports_dir / "2026-03.html").read_text(
        encoding="utf-8")
    assert "unattributed_share_within_threshold" in (target.reports_dir / "2026-02.html").read_text(encoding="utf-8")


def test_the_charts_kept_in_the_cache_folder_are_read_back_and_a_spec_without_its_version_is_built_again(
        tmp_path, monkeypatch) -> None:
    import json

    from costattr_pipeline.lib import cost_report
    from costattr_pipeline.lib.sql import sql_cache_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cost_report.chart_specs.cache_clear()
    try:
        built = cost_report.chart_specs()
        (kept,) = sql_cache_folder().rglob("*.json")
        cost_report.chart_specs.cache_clear()
        assert cost_report.chart_specs() == built  # read back from the file
        stored = json.loads(json.loads(kept.read_text(encoding="utf-8"))["json"][0])
        for _, _, spec in stored.values():
            del spec["$schema"]  # the version the page's script is chosen by
        kept.write_text(json.dumps({"json": [json.dumps(stored)]}), encoding="utf-8")
        cost_report.chart_specs.cache_clear()
        assert cost_report.chart_specs() == built
        assert all("$schema" in spec for _, _, spec in json.loads(
            json.loads(kept.read_text(encoding="utf-8"))["json"][0]).values())  # stored whole again
    finally:
        cost_report.chart_specs.cache_clear()
