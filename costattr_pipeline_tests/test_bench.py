"""``costattr bench --scale 0.05`` as a smoke test: a year end to end, structure and (a) == (b), never timings."""

import json
import subprocess
import sys

import duckdb
import dagster as dg
import pytest

from costattr_pipeline.bench.generate import generate_bench_data
from costattr_pipeline.cli import main


def test_generator_writes_every_source_in_the_contract_formats(tmp_path):
    data = generate_bench_data(tmp_path / "source", scale=0.0005, days=3)
    source = tmp_path / "source"
    assert sorted(path.name for path in (source / "aws_cost_explorer").glob("*.json")) == [
        "fetch-2025-01-04.json", "fetch-2025-01-05.json"]
    for name in ("snowflake/warehouse_metering_history.parquet", "snowflake/query_attribution_history.parquet",
                 "snowflake/tag_references.parquet", "databricks/usage.parquet", "databricks/list_prices.csv",
                 "usage/usage_events.parquet", "usage/external_api_costs.parquet", "usage/unit_drivers.csv",
                 "kubernetes/pod_usage.parquet", "kubernetes/storage_usage.parquet", "config/cost_model.yaml",
                 "config/settings.yaml", "config/rate_card.yaml", "config/tenants.yaml", "config/unit_costs.yaml"):
        assert (source / name).is_file(), name
    queries = duckdb.connect().execute(f"SELECT COUNT(*) FROM read_parquet('{source}/snowflake/query_attribution_history.parquet')")
    assert queries.fetchone()[0] == data.rows["snowflake/query_attribution_history"]
    pages = json.loads((source / "aws_cost_explorer" / "fetch-2025-01-04.json").read_text())
    assert isinstance(pages, list) and len(pages) == 3  # the contract's array of pages, one page per day
    page = pages[0]
    assert page["GroupDefinitions"] == [{"Type": "TAG", "Key": "tenant_id"}, {"Type": "DIMENSION", "Key": "SERVICE"}]
    assert {"TimePeriod", "Groups", "Estimated"} <= set(page["ResultsByTime"][0])
    assert "warehouse: {memory_limit: 3GB, threads: 2}" in (source / "config" / "settings.yaml").read_text()


def test_bench_smoke_measures_every_phase_and_outputs_agree(tmp_path, capsys):
    docs = tmp_path / "benchmarks.md"
    assert main(["bench", "--scale", "0.05", "--work-dir", str(tmp_path / "work"), "--docs", str(docs),
                 "--fixed-scale", "0.005"]) == 0
    results = json.loads((tmp_path / "work" / "bench-results.json").read_text())
    # The fixed cost (the same year at scale 0.005) beside the main scale, and the marginal ratio between them.
    assert [(row["instance"], row["scale"]) for row in results["cost"]] == [("sqlite", 0.05), ("sqlite", 0.005)]
    main_row, fixed_row = results["cost"]
    assert fixed_row["backfill"] == results["fixed"]["instances"]["sqlite"]["backfill"]["seconds"] > 0
    assert main_row["marginal_ratio"] == round((main_row["backfill"] - fixed_row["backfill"])
                                               / (main_row["baseline"] - fixed_row["baseline"]), 2)
    assert all(table["equal"] for table in results["fixed"]["comparison"])
    assert (tmp_path / "work" / "dagster-home-sqlite" / "history" / "runs" / "index.db").is_file()
    assert results["backfill"]["runs"] == 2  # one single-run backfill per partitions definition
    assert all(table["equal"] and table["rows_pipeline"] > 0 for table in results["comparison"])
    assets = {asset["asset"]: asset for asset in results["backfill"]["assets"]}
    assert {"metering/unattributed_costs", "landing/snowflake_account_usage", "metering/snowflake_credit_daily",
            "metering/daily_tenant_summary", "metering/billing_period_summary"} <= set(assets)
    assert assets["metering/unattributed_costs"]["rows_out"] == 365
    assert assets["landing/snowflake_account_usage"]["rows_in"] > 0  # every source read is counted
    assert len(results["comparison"]) == 9  # the FOCUS export too
    assert assets["metering/k8s_project_daily_cost"]["rows_in"] > 0
    assert assets["metering/k8s_pod_usage"]["rows_in"] == results["data"]["rows"]["kubernetes/pod_usage"]
    for phase in ("backfill", "baseline", "increment"):
        assert results[phase]["peak_rss_bytes"] > 0 and results[phase]["seconds"] > 0
    assert results["machine"]["cores"] >= 1
    text = docs.read_text()
    assert "## Latest measurement" in text and "Ratio (a)/(b)" in text and "| `metering/" in text
    assert "| sqlite | 0.005 |" in text and "marginal ratio" in text
    # Dagster's floor, measured once beside the fixed cost: the same two runs of the year and of the day.
    floor = results["floor"]["sqlite"]
    assert floor["scale"] == 0.005 and floor["backfill"]["seconds"] > 0 and floor["increment"]["seconds"] > 0
    floor_year = json.loads((tmp_path / "work" / "fixed" / "floor-backfill-sqlite.json").read_text())
    assert floor_year["runs"] == 2 and floor_year["checks_failed"] == []
    assert {asset["asset"] for asset in floor_year["assets"]} == set(assets)
    assert "| sqlite | Dagster's floor |" in text and "The fixed cost above it is costattr's: sqlite" in text
    assert "(c) daily increment" in capsys.readouterr().out


def test_bench_measures_the_sqlite_and_postgres_instances_side_by_side(tmp_path):
    from costattr_pipeline.bench.postgres_server import PostgresUnavailable, server_programs

    try:
        server_programs()
    except PostgresUnavailable as reason:
        pytest.skip(f"no local PostgreSQL server: {reason}")
    # Three days: the monthly query-cost reports of the pipeline cover the whole month the days touch, the
    # baseline's only the three days, so the command says the outputs differ (exit 1) on those two tables.
    assert main(["bench", "--scale", "0.002", "--days", "3", "--fixed-scale", "0.001", "--instance", "both",
                 "--work-dir", str(tmp_path / "work"), "--docs", ""]) == 1
    results = json.loads((tmp_path / "work" / "bench-results.json").read_text())
    for compared in (results["comparison"], results["fixed"]["comparison"]):
        assert sorted(table["table"] for table in compared if not table["equal"]) == [
            "metering.snowflake_hierarchical_query_cost", "metering.snowflake_recurring_query_cost"]
    assert [(row["instance"], row["scale"]) for row in results["cost"]] == [
        ("sqlite", 0.002), ("sqlite", 0.001), ("postgres", 0.002), ("postgres", 0.001)]
    for kind in ("sqlite", "postgres"):
        measured = results["all_instances"][kind]
        assert measured["backfill"]["runs"] == 2 and measured["increment"]["runs"] == 2
        # The same backfill on either instance: every asset, every partition.
        assert {asset["asset"]: asset["rows_out"] for asset in measured["backfill"]["assets"]} == {
            asset["asset"]: asset["rows_out"] for asset in results["all_instances"]["sqlite"]["backfill"]["assets"]}
    assert "| postgres | 0.002 |" in (tmp_path / "work" / "bench-results.md").read_text()


def test_a_phase_reports_its_own_peak_memory_not_the_process_that_started_it(tmp_path):
    """A parent holding 1 GiB starts a phase-like child: the child's peak is its own (getrusage's
    ru_maxrss would carry the parent's 1 GiB over the exec)."""
    parent = f"""
import subprocess, sys
held = bytearray(1024 ** 3)
for offset in range(0, len(held), 4096):
    held[offset] = 1
child = ("import resource; from costattr_pipeline.bench.phases import peak_rss_bytes; "
         "print(peak_rss_bytes(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
print(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout)
"""
    out = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, check=True).stdout
    own, inherited = (int(value) for value in out.split())
    assert inherited >= 1024 ** 3  # what the kernel's ru_maxrss says: the parent's peak
    assert own < 512 * 1024 ** 2   # the child itself: Python, DuckDB and the bench module


def test_the_floor_runs_the_same_graph_with_empty_steps(target):
    """Dagster's floor: the same steps, partitions and checks recorded as the real runs record them, nothing
    read or written in the warehouse."""
    import datetime as dt

    from costattr_pipeline.bench.floor import floor_definitions
    from costattr_pipeline.definitions import build_definitions
    from costattr_pipeline.instance import ephemeral_instance
    from costattr_pipeline.runner import run_range

    real = build_definitions(target, component_catalog=False)
    floor = floor_definitions(real)
    real_graph, floor_graph = real.resolve_asset_graph(), floor.resolve_asset_graph()
    assert floor_graph.materializable_asset_keys == real_graph.materializable_asset_keys
    for key in real_graph.materializable_asset_keys:
        node, copy = real_graph.get(key), floor_graph.get(key)
        assert (copy.partitions_def, copy.parent_keys, copy.backfill_policy) == (
            node.partitions_def, node.parent_keys, node.backfill_policy), key
        assert node.assets_def.op.name == copy.assets_def.op.name
    assert floor_graph.asset_check_keys == real_graph.asset_check_keys

    instance = ephemeral_instance()
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 4), instance=instance, log_level="ERROR",
                        defs=floor)
    assert [(run.first, run.last) for run in summary.runs] == [("2026-03-01", "2026-03-03"), ("2026-03-01", "2026-03-01")]
    partitions = {asset.asset: asset.partitions for asset in summary.assets}
    daily = {key.to_user_string() for key in real_graph.materializable_asset_keys
             if isinstance(real_graph.get(key).partitions_def, dg.DailyPartitionsDefinition)}
    assert daily and {name: count for name, count in partitions.items() if name in daily} == dict.fromkeys(daily, 3)
    assert set(partitions.values()) == {1, 3} and len(partitions) == len(real_graph.materializable_asset_keys)
    assert {(check.asset, check.check) for check in summary.checks} == {
        (key.asset_key.to_user_string(), key.name) for key in real_graph.asset_check_keys}
    assert all(check.passed for check in summary.checks) and summary.assets[0].rows == 0
    assert not target.warehouse.exists()  # the empty steps never opened it
