"""What the UI shows per partition: each partition's own figures after a single-run backfill, never the run's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costattr_pipeline.lib.sql import DeclaredColumn, declared_columns
from costattr_pipeline.metadata import (PARTITION_ROW_COUNT, PREVIEW_ROWS, RUN_FIGURES, figure_metadata, order_key,
                                        preview_rows, preview_sql, preview_values_sql)
from costattr_pipeline.resources.warehouse import DuckDBSession
from costattr_pipeline.runner import run_range
from costattr_pipeline_tests.builders import group, page, write_config, write_fetch
from costattr_pipeline_tests.conftest import latest_materializations, query

UNATTRIBUTED = dg.AssetKey(["metering", "unattributed_costs"])
SUMMARY = dg.AssetKey(["metering", "daily_tenant_summary"])
BILLS = dg.AssetKey(["metering", "billing_period_summary"])


def test_declared_columns_read_type_nullability_and_the_line_comment() -> None:
    tables = declared_columns("""
        CREATE SCHEMA IF NOT EXISTS m;
        -- a table comment is not a column's
        CREATE TABLE IF NOT EXISTS m.t (
            day    DATE NOT NULL,            -- UTC day
            name   VARCHAR,
            amount DECIMAL(38, 12) NOT NULL  -- USD, exact
        );
        CREATE OR REPLACE VIEW m.v AS SELECT * FROM m.t;""")
    assert tables == {"m.t": (DeclaredColumn("day", "DATE", False, "UTC day"),
                              DeclaredColumn("name", "VARCHAR", True, None),
                              DeclaredColumn("amount", "DECIMAL(38, 12)", False, "USD, exact"))}


@pytest.mark.parametrize("value, expected", [
    (Decimal("12.340000"), {"x": dg.MetadataValue.float(12.34), "x_exact": dg.MetadataValue.text("12.340000")}),
    (Decimal("7"), {"x": dg.MetadataValue.int(7)}),       # a count summed by DuckDB
    (3, {"x": dg.MetadataValue.int(3)}),
    (True, {"x": dg.MetadataValue.bool(True)}),
    (0.25, {"x": dg.MetadataValue.float(0.25)}),
    ("2026.1", {"x": dg.MetadataValue.text("2026.1")}),
    (None, {}),
])
def test_a_figure_is_a_number_the_ui_plots_and_a_decimal_keeps_its_exact_text(value, expected) -> None:
    assert figure_metadata("x", value) == expected


def test_each_day_of_a_range_run_shows_its_own_figures(target) -> None:
    write_fetch(target.source_dir, "f.json", page({
        "2026-03-01": [group("acme", "EC2", "90"), group(None, "VPC", "10")],          # 10 %
        "2026-03-02": [group("acme", "EC2", "199"), group(None, "VPC", "1")],          # 0.5 %
        "2026-03-04": [group("globex", "S3", "0.30"), group("acme", "EC2", "0.70")],   # 0 %
    }))
    with dg.instance_for_test() as instance:
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 5), instance=instance)
        days = latest_materializations(instance, UNATTRIBUTED)
        summary = latest_materializations(instance, SUMMARY)
    assert sorted(days) == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    first, second, empty, fourth = (days[key] for key in sorted(days))
    assert (first["total_aws_cost_usd"], first["total_aws_cost_usd_exact"], first["unattributed_share"],
            first["days_over_threshold"], first[PARTITION_ROW_COUNT]) == (100.0, "100", 0.1, 1, 1)
    assert (second["total_aws_cost_usd"], second["unattributed_cost_usd_exact"], second["unattributed_share"],
            second["days_over_threshold"]) == (200.0, "1", 0.005, 0)
    assert fourth["total_aws_cost_usd_exact"] == "1" and fourth["unattributed_share"] == 0
    assert "| 2026-03-04 | 1 | 0 |" in fourth["preview"] and "2026-03-01" not in fourth["preview"]
    # A day without cost has no rows and no figures, rather than the run's.
    assert empty[PARTITION_ROW_COUNT] == 0 and "total_aws_cost_usd" not in empty
    # The run's figures are there too, under a name that says they are the run's.
    assert first[RUN_FIGURES] == fourth[RUN_FIGURES] == {
        "partitions": "2026-03-01...2026-03-04", "partition_count": 4, "row_count": 3, "days_over_threshold": 1,
        "total_aws_cost_usd": "301", "unattributed_cost_usd": "11", "threshold_used": "0.020000",
        "unattributed_share": pytest.approx(11 / 301)}
    assert (summary["2026-03-02"]["aws_usd"], summary["2026-03-02"]["unattributed_usd_exact"],
            summary["2026-03-02"]["tenants"]) == (200.0, "1", 1)
    assert summary["2026-03-04"]["tenants"] == 2
    assert query(target, "SELECT SUM(cost_usd) FROM metering.daily_tenant_summary "
                         "WHERE cost_date = '2026-03-02'") == [(Decimal("200"),)]


RATE_CARD = """\
versions:
  - {version: "2026.1", effective_from: 2026-01-01, effective_to: 2026-03-01, currency: USD,
     customer_levy: {standard: 100.00}, facility_fee: {}, variable: {}, pass_through_markup_pct: 0}
  - {version: "2026.2", effective_from: 2026-03-01, effective_to: null, currency: USD,
     customer_levy: {standard: 200.00}, facility_fee: {}, variable: {}, pass_through_markup_pct: 0}
"""
TENANTS = """\
tiers:
  standard: {included: {}}
tenants:
  acme:
    tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: null}]
  globex:
    tiers: [{tier: standard, effective_from: 2026-03-01, effective_to: null}]
"""


def test_each_month_shows_its_own_bills(target) -> None:
    write_config(target.config_dir, "rate_card.yaml", RATE_CARD)
    write_config(target.config_dir, "tenants.yaml", TENANTS)
    with dg.instance_for_test() as instance:
        run_range(target, dt.date(2026, 2, 27), dt.date(2026, 3, 2), instance=instance, selection=[
            "metering/usage_events", "metering/external_api_costs", BILLS.to_user_string()])
        months = latest_materializations(instance, BILLS)
    assert sorted(months) == ["2026-02-01", "2026-03-01"]
    february, march = months["2026-02-01"], months["2026-03-01"]
    assert (february[PARTITION_ROW_COUNT], february["total_billed_exact"], february["rate_card_version"]) == (
        1, "100", "2026.1")
    assert (march[PARTITION_ROW_COUNT], march["total_billed_exact"], march["rate_card_version"]) == (2, "400", "2026.2")
    assert march[RUN_FIGURES]["total_billed"] == "500" and "rate_card_version" not in march[RUN_FIGURES]


def test_every_column_of_the_output_tables_is_described(target) -> None:
    write_fetch(target.source_dir, "f.json", page({"2026-03-01": [group("acme", "EC2", "9")]}))
    with dg.instance_for_test() as instance:
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2), instance=instance)
        schemas = {}
        for key in instance.get_asset_keys():
            record = instance.get_latest_materialization_event(key)
            metadata = record.asset_materialization.metadata if record else {}
            if "dagster/column_schema" in metadata:
                schemas[metadata["dagster/table_name"].value] = metadata["dagster/column_schema"].schema
    assert {"metering.unattributed_costs", "metering.aws_cost_daily", "metering.daily_tenant_summary",
            "metering.unit_cost_allocation", "metering.billing_period_summary"} <= set(schemas)
    undescribed = [f"{table}.{column.name}" for table, schema in schemas.items()
                   for column in schema.columns if not column.description]
    assert undescribed == []
    columns = {column.name: column for column in schemas["metering.unattributed_costs"].columns}
    assert columns["total_aws_cost_usd"].type == "DECIMAL(38, 12)"
    assert columns["total_aws_cost_usd"].description.startswith("USD, exact")
    assert columns["cost_date"].constraints.nullable is False


def test_a_range_run_records_for_each_day_what_a_run_of_that_day_alone_records(target) -> None:
    """One grouped query per asset gives each partition of a multi-partition run exactly the figures, row
    count and preview a single-partition run of that day records (only the run's own figures differ)."""
    write_fetch(target.source_dir, "f.json", page({
        "2026-03-01": [group("acme", "EC2", "90"), group(None, "VPC", "10")],
        "2026-03-02": [group("acme", "EC2", "199.99"), group(None, "VPC", "0.01"), group("globex", "S3", "5")],
        "2026-03-03": [group("globex", "S3", "0.30"), group("acme", "EC2", "0.70")],
    }))
    days = ["2026-03-01", "2026-03-02", "2026-03-03"]

    def recorded(instance, key: dg.AssetKey) -> dict[str, dict]:
        return {day: {name: value for name, value in metadata.items() if name != RUN_FIGURES}
                for day, metadata in latest_materializations(instance, key).items()}

    with dg.instance_for_test() as instance:
        for day in days:
            start = dt.date.fromisoformat(day)
            run_range(target, start, start + dt.timedelta(days=1), instance=instance)
        alone = {key: recorded(instance, key) for key in (UNATTRIBUTED, SUMMARY)}
    with dg.instance_for_test() as instance:
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4), instance=instance)
        together = {key: recorded(instance, key) for key in (UNATTRIBUTED, SUMMARY)}
    for key in (UNATTRIBUTED, SUMMARY):
        assert sorted(together[key]) == days
        for day in days:
            # The column schema goes with a run's latest partition only: every day of single-day runs.
            expected = {name: value for name, value in alone[key][day].items()
                        if day == days[-1] or name != "dagster/column_schema"}
            assert together[key][day] == expected, (key, day)
    assert together[UNATTRIBUTED]["2026-03-02"]["total_aws_cost_usd_exact"] == "205"
    assert together[SUMMARY]["2026-03-02"]["tenants"] == 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.one_of(st.none(), st.sampled_from("abc")),
                          st.one_of(st.none(), st.integers(-2, 2))), min_size=0, max_size=60, unique=True),
       st.sampled_from(["day, tag NULLS FIRST, amount", "day, tag, amount NULLS FIRST", "day, amount NULLS LAST, tag",
                        "day ASC, tag NULLS FIRST, amount NULLS FIRST"]))
def test_the_row_id_preview_shows_the_rows_the_window_preview_shows(rows, ordered) -> None:
    """Each partition's first rows, picked by row id (a table) or among the rows holding its first rows' order
    values (a view), are those a window over whole rows ranks first, NULLS FIRST and LAST included (the order
    columns are unique here, so there are no ties)."""
    engine = duckdb.connect()
    engine.execute("CREATE SCHEMA m; CREATE TABLE m.t (day INTEGER, tag VARCHAR, amount INTEGER, note VARCHAR); "
                   "CREATE VIEW m.v AS SELECT *, 'derived' AS wide FROM m.t")
    if rows:
        engine.executemany("INSERT INTO m.t VALUES (?, ?, ?, 'wide')", rows)
    session = DuckDBSession(engine)
    by_window = session.rows(preview_sql("m.t", "day >= :first", "day", ordered, False), {"first": 1})
    assert "MIN_BY" in preview_sql("m.t", "day >= :first", "day", ordered, True)
    assert "MIN_BY" in preview_values_sql("m.v", "day >= :first", "day", ordered)
    for table, shown in (("m.t", by_window), ("m.v", [{**row, "wide": "derived"} for row in by_window])):
        assert preview_rows(session, table, "day >= :first", {"first": 1}, None, "day", ordered) == shown
    assert len(by_window) == sum(min(PREVIEW_ROWS, sum(1 for row in rows if row[0] == day)) for day in range(1, 4))


def test_an_order_the_row_id_preview_cannot_key_falls_back_to_the_window() -> None:
    assert order_key("day, tag NULLS FIRST") == "(day IS NULL, day, tag IS NOT NULL, tag)"
    for ordered in ("day DESC", "LOWER(tag)", "day, tag DESC NULLS LAST"):
        assert order_key(ordered) is None
        assert "ROW_NUMBER()" in preview_sql("m.t", "TRUE", "day", ordered, True)
