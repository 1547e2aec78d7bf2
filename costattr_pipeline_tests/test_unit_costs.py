"""Unit-cost splits and tag strings: config rules, exact cents, drivers, versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import TABLES_SQL as SUMMARY_TABLES_SQL
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.unit_costs import category, parse_unit_costs, tag_string
from costattr_pipeline.lib.yaml_loading import parse_yaml
from costattr_pipeline.runner import run_range
from costattr_pipeline_tests.builders import write_config
from costattr_pipeline_tests.conftest import dump_tables, query

UNIT_COSTS = """unit_types:
  - {unit_type: Product, description: Cost per product, effective_from: 2026-01-01,
     effective_to: 2026-03-03, items: {octo: 0.3, ripple: 0.5, wave: 0.2}}
  - {unit_type: Product, description: Cost per product, effective_from: 2026-03-03,
     effective_to: null, items: {octo: 0.5, ripple: 0.5}}
  - {unit_type: Halves, description: Two halves, effective_from: 2026-01-01, effective_to: null,
     items: {left: 0.5, right: 0.5}}
  - {unit_type: Customer, description: Cost per customer, effective_from: 2026-01-01,
     effective_to: null, driver: unit_drivers}
"""
SELECTION = ["metering/unit_cost_allocation", "metering/unit_cost_tags"]


def test_seed_example_tag_string_and_category() -> None:
    shares = {"wave": Decimal("0.2"), "octo": Decimal("0.3"), "ripple": Decimal("0.5")}
    assert tag_string(shares) == "octo:0.3000000000|ripple:0.5000000000|wave:0.2000000000|"
    assert category("costattr", "Product") == "costattr:Product"


@pytest.mark.parametrize("text, rule", [
    ("unit_types:\n  - {unit_type: P, effective_from: 2026-01-01, effective_to: null, items: {a: 0.3, b: 0.6}}\n",
     "unit_types[0] (P [2026-01-01, open)): item shares must sum to 1 (within 1e-9), they sum to 0.9"),
    ("unit_types:\n  - {unit_type: P, effective_from: 2026-01-01, effective_to: null}\n", "give exactly one of"),
    ("unit_types:\n  - {unit_type: P, effective_from: 2026-01-01, effective_to: null, driver: cur_size}\n",
     "driver must be 'unit_drivers'"),
    ("""unit_types:
  - {unit_type: P, effective_from: 2026-01-01, effective_to: null, items: {a: 1}}
  - {unit_type: P, effective_from: 2026-02-01, effective_to: null, items: {a: 1}}
""", "unit_types[1]: window [2026-02-01, open) overlaps unit_types[0]"),
    ("unit_types:\n  - {unit_type: P, effective_from: 2026-01-01, effective_to: null, items: {a: 1.5, b: -0.5}}\n",
     "'b' must not be negative"),
])
def test_invalid_unit_costs_are_rejected(text: str, rule: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_unit_costs(parse_yaml(text, "config/unit_costs.yaml"), "config/unit_costs.yaml")
    assert str(raised.value).startswith("config/unit_costs.yaml: ")
    assert rule in str(raised.value)


def test_shares_within_1e_9_of_one_are_accepted() -> None:
    unit_types = parse_unit_costs({"unit_types": [{
        "unit_type": "Thirds", "effective_from": "2026-01-01", "effective_to": None,
        "items": {"a": Decimal("0.3333333333"), "b": Decimal("0.3333333333"), "c": Decimal("0.3333333334")}}]})
    assert unit_types[0].items is not None


@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.integers(min_value=1, max_value=10**6),
                       min_size=1, max_size=8))
def test_tag_string_is_sorted_with_ten_decimals(values: dict[str, int]) -> None:
    total = sum(values.values())
    tag = tag_string({item: Decimal(value) / total for item, value in values.items()})
    parts = tag.split("|")
    assert parts[-1] == ""
    items = [part.split(":")[0] for part in parts[:-1]]
    assert items == sorted(values)
    assert all(len(part.split(":")[1].split(".")[1]) == 10 for part in parts[:-1])


def _seed_summary(target, costs: dict[str, str]) -> None:
    """Daily tenant summary rows (the pool's source) for the given days."""
    connection = duckdb.connect(str(target.warehouse))
    connection.execute(SUMMARY_TABLES_SQL)  # the table and its published view, as its asset creates them
    for day, cost in costs.items():
        # Two rows per day whose cents round differently alone: the pool rounds the whole.
        half = Decimal(cost) / 2
        connection.execute("INSERT INTO metering.daily_tenant_summary (cost_date, tenant_id, module_id, "
                           "resource_type, cost_usd) VALUES (?, 'acme', NULL, 'aws', ?), "
                           "(?, NULL, NULL, 'snowflake', ?)", [day, half, day, Decimal(cost) - half])
    connection.close()


def _drivers(target, rows: str) -> None:
    folder = target.source_dir / "usage"
    folder.mkdir(exist_ok=True)
    (folder / "unit_drivers.csv").write_text("date,unit_type,unit_item,driver_value\n" + rows, encoding="utf-8")


def test_allocation_splits_the_pool_exactly(target) -> None:
    write_config(target.config_dir, "unit_costs.yaml", UNIT_COSTS)
    _seed_summary(target, {"2026-03-01": "0.05", "2026-03-02": "100.004", "2026-03-03": "10"})
    _drivers(target, "2026-03-01,Customer,acme,300\n2026-03-01,Customer,globex,100\n"
                     "2026-03-02,Customer,acme,1\n2026-03-02,Customer,globex,1\n2026-03-02,Customer,wayne,1\n")
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4), selection=SELECTION)
    rows = query(target, "SELECT CAST(cost_date AS VARCHAR), unit_type, unit_item, share, allocated_cost_usd, "
                         "pool_cost_usd FROM metering.unit_cost_allocation ORDER BY 1, 2, 3")
    by_key = {(day, unit_type, item): (share, cost, pool) for day, unit_type, item, share, cost, pool in rows}
    # 5 cents in halves: naive rounding would give 3 + 3 = 6; largest remainder gives 3 + 2.
    assert by_key[("2026-03-01", "Halves", "left")][1] + by_key[("2026-03-01", "Halves", "right")][1] == \
        Decimal("0.05")
    assert sorted([by_key[("2026-03-01", "Halves", "left")][1], by_key[("2026-03-01", "Halves", "right")][1]]) == \
        [Decimal("0.02"), Decimal("0.03")]
    # Driver split 300:100 = 75 % / 25 %, share stored with the row.
    assert by_key[("2026-03-01", "Customer", "acme")][:2] == (Decimal("0.75"), Decimal("0.04"))
    assert by_key[("2026-03-01", "Customer", "globex")][:2] == (Decimal("0.25"), Decimal("0.01"))
    # 100.004 rounds to a 100.00 pool; thirds would round to 33.33 x 3 = 99.99 naively.
    customers = [by_key[("2026-03-02", "Customer", item)][1] for item in ("acme", "globex", "wayne")]
    assert customers == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    # Product v1 until 2026-03-03, then v2.
    assert {item for (day, unit_type, item) in by_key if unit_type == "Product" and day == "2026-03-02"} == {
        "octo", "ripple", "wave"}
    assert by_key[("2026-03-03", "Product", "octo")][:2] == (Decimal("0.5"), Decimal("5.00"))
    # Every unit type's parts add up to the pool exactly.
    assert query(target, "SELECT COUNT(*) FROM (SELECT cost_date, unit_type FROM metering.unit_cost_allocation "
                         "GROUP BY 1, 2 HAVING SUM(allocated_cost_usd) <> MIN(pool_cost_usd))") == [(0,)]
    tags = dict(((day, unit_category), tag) for day, unit_category, tag in query(
        target, "SELECT CAST(cost_date AS VARCHAR), category, tag FROM metering.unit_cost_tags"))
    assert tags[("2026-03-01", "costattr:Product")] == "octo:0.3000000000|ripple:0.5000000000|wave:0.2000000000|"
    assert tags[("2026-03-01", "costattr:Customer")] == "acme:0.7500000000|globex:0.2500000000|"
    assert tags[("2026-03-02", "costattr:Customer")] == \
        "acme:0.3333333333|globex:0.3333333333|wayne:0.3333333333|"
    # 2026-03-03 has no drivers: the WARN check says so and Customer is not split that day.
    checks = {check: passed for _, check, passed, _ in summary.checks}
    assert checks == {"unit_parts_sum_to_pool": True, "unit_drivers_present": False}
    assert ("2026-03-03", "costattr:Customer") not in tags


def test_rerun_is_identical(target) -> None:
    write_config(target.config_dir, "unit_costs.yaml", UNIT_COSTS)
    _seed_summary(target, {"2026-03-01": "12.345"})
    _drivers(target, "2026-03-01,Customer,acme,2\n")
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2), selection=SELECTION)
    first = dump_tables(target)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2), selection=SELECTION)
    assert dump_tables(target) == first


def test_negative_driver_is_rejected_naming_the_line(target) -> None:
    from costattr_pipeline.runner import RunFailed

    write_config(target.config_dir, "unit_costs.yaml", UNIT_COSTS)
    _seed_summary(target, {"2026-03-01": "1"})
    _drivers(target, "2026-03-01,Customer,acme,2\n2026-03-01,Customer,globex,-1\n")
    with pytest.raises(RunFailed, match=r"usage/unit_drivers.csv: line 3: driver_value must not be negative"):
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 2), selection=SELECTION)


def test_cost_rollup_schedule_covers_previous_and_current_month(target) -> None:
    import dagster as dg

    from costattr_pipeline.definitions import build_definitions

    with dg.instance_for_test() as instance:
        schedule = build_definitions(target).resolve_schedule_def("cost_rollup_4h")
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(
            2026, 3, 10, 7, 45, tzinfo=dt.timezone.utc))
        request = schedule.evaluate_tick(context).run_requests[0]
    assert schedule.cron_schedule == "45 3-23/4 * * *"
    assert (request.tags["dagster/asset_partition_range_start"],
            request.tags["dagster/asset_partition_range_end"]) == ("2026-02-01", "2026-03-10")
