"""One measured phase of ``costattr bench``, run in its own process so it has its own peak memory.

``python -m costattr_pipeline.bench.phases run|baseline --source-dir ... --warehouse ... --start ... --end ...
--result <file.json>`` writes the phase's wall-clock seconds, peak resident memory and, for ``run``,
every asset's rows and seconds as the run reported them (its progress goes to stdout as it happens).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
import warnings
from pathlib import Path

import duckdb

from costattr_pipeline.defs.attribution.snowflake_credits import credit_sql
from costattr_pipeline.lib.snowflake_usage import USAGE_VIEWS
from costattr_pipeline.lib.sql import bind_script, sql_file

BASELINE_SQL = sql_file(__file__, "baseline.sql")
BASELINE_SUMMARY_SQL = sql_file(__file__, "baseline_summary.sql")
# The project's own Snowflake SQL (the exact largest-remainder splits and the two monthly reports),
# run on the baseline's views ``metering.<view>`` over the exports.
EXPORT_VIEWS = {view.relation: f"metering.{view.name}" for view in USAGE_VIEWS}

# The source files each landing asset reads, by the generator's row-count names.
SOURCE_INPUTS = {
    "metering/aws_cost_daily": ("aws_cost_explorer",),
    "landing/snowflake_account_usage": ("snowflake/warehouse_metering_history", "snowflake/query_attribution_history",
                                        "snowflake/tag_references"),
    "metering/databricks_usage": ("databricks/usage", "databricks/list_prices"),
    "metering/usage_events": ("usage/usage_events",),
    "metering/external_api_costs": ("usage/external_api_costs",),
    "metering/unit_cost_allocation": ("usage/unit_drivers",),
    "metering/k8s_pod_usage": ("kubernetes/pod_usage",),
    "metering/k8s_storage_usage": ("kubernetes/storage_usage",),
}


def cpu_seconds() -> float:
    """User and system time of this process so far (every thread, DuckDB's too): on a machine shared with
    other work, a figure that does not grow when this process waits for a core."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_bytes() -> int:
    """Peak resident set size of this process's own memory.

    On Linux this is ``VmHWM`` of /proc/self/status, not ``getrusage``'s ``ru_maxrss``: the kernel carries
    ``ru_maxrss`` over an exec from the process that forked it, so a phase started by ``costattr bench``
    reported the bench's own peak (5.45 GiB after comparing the year's tables) instead of its own
    (0.82 GiB for the daily increment).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def phase_instance(kind: str, home: Path | None = None, postgres_url: str | None = None):
    """The Dagster instance a run phase records in: ``memory`` (ephemeral), ``sqlite`` (a DAGSTER_HOME
    with the project's SQLite storage, as ``costattr run`` uses it) or ``postgres`` (the production
    storage, dagster-postgres, on the server at ``postgres_url``)."""
    import os

    import dagster as dg

    from costattr_pipeline.instance import ephemeral_instance, instance_yaml

    if kind == "memory":
        return ephemeral_instance()
    assert home is not None, "a DAGSTER_HOME folder is needed"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_yaml(kind, postgres_url), encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.from_config(str(home))


def run_phase(source_dir: Path, warehouse: Path, start: dt.date, end: dt.date,
              source_rows: dict[str, int], instance_kind: str = "memory", home: Path | None = None,
              postgres_url: str | None = None, floor: bool = False) -> dict[str, object]:
    """``costattr run`` over ``[start, end)``: one run for the daily assets, one for the monthly ones.

    ``floor``: the same runs of the same graph with steps that do nothing (``bench/floor.py``), the
    definitions built as ``costattr run`` builds them: what Dagster alone costs for this range."""
    import dagster as dg

    from costattr_pipeline.cli import print_progress
    from costattr_pipeline.definitions import build_definitions
    from costattr_pipeline.runner import run_range
    from costattr_pipeline.target import Target

    from costattr_pipeline.resources.warehouse import exclusive_use

    target = Target.resolve("local", str(source_dir), str(source_dir / "config"), str(warehouse))
    instance = phase_instance(instance_kind, home, postgres_url)
    began, cpu = time.perf_counter(), cpu_seconds()
    try:
        defs = None
        if floor:
            from costattr_pipeline.bench.floor import floor_definitions

            defs = floor_definitions(build_definitions(target, component_catalog=False))
        with exclusive_use(target.warehouse, 0):  # held for the whole run, as `costattr run` holds it
            summary = run_range(target, start, end, instance=instance, log_level="ERROR",
                                progress=print_progress, defs=defs)  # shown by costattr bench as it happens
        seconds, cpu = time.perf_counter() - began, cpu_seconds() - cpu
    finally:
        instance.dispose()
    rows_out = {asset.asset: asset.rows for asset in summary.assets}
    graph = build_definitions(target, component_catalog=False).resolve_asset_graph()
    assets = []
    for asset in summary.assets:
        key = dg.AssetKey.from_user_string(asset.asset)
        upstream = [parent.to_user_string() for parent in graph.get(key).parent_keys]
        rows_in = (sum(source_rows.get(name, 0) for name in SOURCE_INPUTS.get(asset.asset, ()))
                   + sum(rows_out.get(parent, 0) for parent in upstream))
        assets.append({"asset": asset.asset, "rows_in": rows_in, "rows_out": rows_out[asset.asset],
                       "seconds": asset.seconds})
    failed = [f"{check.severity}: {check.asset} {check.check}" for check in summary.checks if not check.passed]
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "runs": len(summary.run_ids), "assets": assets,
            "checks_passed": len(summary.checks) - len(failed), "checks_failed": failed}


def baseline_phase(source_dir: Path, warehouse: Path, start: dt.date, end: dt.date, threshold: str,
                   memory_limit: str, threads: int) -> dict[str, object]:
    """The bare DuckDB baseline: the main output tables from the files, in one connection."""
    # No Dagster import here: the baseline's peak memory is DuckDB's and the SQL's only.
    from costattr_pipeline.lib.config import load_settings
    from costattr_pipeline.lib.snowflake_usage import TOP_RECURRING_QUERIES

    warehouse.unlink(missing_ok=True)
    settings = load_settings(source_dir / "config")
    began, cpu = time.perf_counter(), cpu_seconds()
    engine = duckdb.connect(str(warehouse), config={"memory_limit": memory_limit, "threads": threads})
    timings: dict[str, float] = {}
    try:
        engine.execute("SET TimeZone = 'UTC'")
        window = {"start_date": start, "end_date": end}
        files = {
            "cost_explorer_glob": str(source_dir / "aws_cost_explorer" / "*.json"),
            "list_prices_file": str(source_dir / "databricks" / "list_prices.csv"),
            "databricks_usage_file": str(source_dir / "databricks" / "usage.parquet"),
            "external_api_costs_file": str(source_dir / "usage" / "external_api_costs.parquet"),
            "usage_events_file": str(source_dir / "usage" / "usage_events.parquet"),
            "metering_file": str(source_dir / "snowflake" / "warehouse_metering_history.parquet"),
            "queries_file": str(source_dir / "snowflake" / "query_attribution_history.parquet"),
            "tags_file": str(source_dir / "snowflake" / "tag_references.parquet"),
        }
        step = time.perf_counter()
        engine.execute(bind_script(BASELINE_SQL, {**window, **files, "threshold": threshold}))
        timings["sources, unattributed_costs, databricks_priced_usage"] = time.perf_counter() - step
        step = time.perf_counter()
        snowflake = settings.snowflake
        relations = credit_sql.credit_relations(EXPORT_VIEWS)
        engine.execute(bind_script(credit_sql.CREDIT_DAILY_SQL, {**window, **credit_sql.tag_parameters(snowflake)},
                                   relations))
        timings["snowflake_credit_daily"] = time.perf_counter() - step
        step = time.perf_counter()
        engine.execute(credit_sql.REPORT_TABLES_SQL)
        engine.execute(bind_script(credit_sql.RECURRING_QUERY_COST_SQL, {**window, "top_n": TOP_RECURRING_QUERIES},
                                   relations))
        engine.execute(bind_script(credit_sql.HIERARCHICAL_QUERY_COST_SQL, window, relations))
        timings["snowflake query-cost reports"] = time.perf_counter() - step
        step = time.perf_counter()
        kubernetes_baseline(engine, source_dir, start, end)
        timings["k8s_project_daily_cost"] = time.perf_counter() - step
        step = time.perf_counter()
        engine.execute(BASELINE_SUMMARY_SQL)
        kubernetes_summary_baseline(engine, settings, window)
        timings["daily_tenant_summary, cost_items"] = time.perf_counter() - step
        step = time.perf_counter()
        focus_export_baseline(engine, source_dir, settings, window)
        timings["focus_export"] = time.perf_counter() - step
        engine.execute("CHECKPOINT")
    finally:
        engine.close()
    return {"seconds": round(time.perf_counter() - began, 3), "cpu_seconds": round(cpu_seconds() - cpu, 3),
            "steps": {name: round(value, 3) for name, value in timings.items()}}


def kubernetes_summary_baseline(engine: duckdb.DuckDBPyConnection, settings, window: dict[str, dt.date]) -> None:
    """The summary's Kubernetes rows by the project's own fragment (each namespace's tenant from its pods' label;
    the bench maps no namespace in tenants.yaml and runs no cluster on AWS), summed like the baseline's others."""
    from costattr_pipeline.defs.attribution.tenant_summary import daily_tenant_summary as summary

    relations, params = summary.kubernetes_attribution(settings, {}, on_aws=False)
    rows = sql_file(summary.__file__, "sources/kubernetes.sql")
    engine.execute(bind_script(
        "INSERT INTO metering.daily_tenant_summary SELECT cost_date, tenant_id, module_id, resource_type, "
        f"SUM(cost_usd) FROM ({rows}) AS kubernetes_rows GROUP BY cost_date, tenant_id, module_id, resource_type",
        {**window, **params}, relations))


def focus_export_baseline(engine: duckdb.DuckDBPyConnection, source_dir: Path, settings,
                          window: dict[str, dt.date]) -> None:
    """``metering.focus_export`` by the project's own SQL (its tables of what varies, and the view) over views of
    the baseline's tables named as the pipeline's, with the same rate card versions and Kubernetes attribution."""
    from costattr_pipeline.defs.attribution.tenant_summary import daily_tenant_summary as summary
    from costattr_pipeline.defs.exports import focus_export as export
    from costattr_pipeline.lib.billing_config import load_billing_config
    from costattr_pipeline.resources.warehouse import DuckDBSession

    engine.execute("""
        CREATE VIEW metering.v_aws_cost_daily AS SELECT * FROM metering.aws_cost_latest;
        CREATE VIEW metering.v_snowflake_credit_daily AS SELECT * FROM metering.snowflake_credit_daily;
        CREATE VIEW metering.v_external_api_costs AS
            SELECT *, amount AS amount_usd FROM metering.external_api_costs;""")
    session = DuckDBSession(engine)
    export.create_tables(session)
    attribution, params = summary.kubernetes_attribution(settings, {}, on_aws=False)
    versions, version_params = export.rate_card_versions(load_billing_config(source_dir / "config"),
                                                         window["start_date"], window["end_date"])
    sources = [source for source in export.EXPORT_SOURCES
               if source.cost.relation != "focus_cost_daily" and source is not export.AWS_ON_KUBERNETES]
    export.export_window(session, sources, {**window, **params, **version_params, "snowflake_account": "unknown",
                                            "cost_explorer_account": "unknown"},
                         {**attribution, "rate_card_versions": versions,
                          "cost_explorer_replaced_days": summary.NO_REPLACED_DAYS})


def kubernetes_baseline(engine: duckdb.DuckDBPyConnection, source_dir: Path, start: dt.date, end: dt.date) -> None:
    """``metering.k8s_project_daily_cost`` by the project's own cost SQL over views of the Parquet exports
    (no landing, no validation, no checks), with the cost models loaded as the asset loads them."""
    import datetime

    from costattr_pipeline.defs.cost_models import k8s_project_daily_cost as cost
    from costattr_pipeline.lib.cost_model import load_cost_models
    from costattr_pipeline.resources.warehouse import DuckDBSession

    folder = source_dir / "kubernetes"
    engine.execute(f"""
        CREATE SCHEMA IF NOT EXISTS metering;
        CREATE VIEW metering.k8s_pod_usage AS SELECT * FROM read_parquet('{folder / "pod_usage.parquet"}');
        CREATE VIEW metering.k8s_storage_usage AS SELECT * FROM read_parquet('{folder / "storage_usage.parquet"}');
        CREATE TABLE metering.k8s_vm_usage (usage_date DATE, cluster_id VARCHAR, node VARCHAR, namespace VARCHAR,
                                            vm_name VARCHAR, vm_labels VARCHAR);
        CREATE TABLE metering.k8s_network_usage (usage_date DATE, cluster_id VARCHAR, node VARCHAR,
                                                 namespace VARCHAR, data_transfer_in_gb DECIMAL(38, 6),
                                                 data_transfer_out_gb DECIMAL(38, 6));
        CREATE TABLE metering.k8s_node_infrastructure_cost (usage_date DATE, cluster_id VARCHAR, node VARCHAR,
                                                            resource_id VARCHAR, cost_usd DECIMAL(38, 9));""")
    session = DuckDBSession(engine)
    session.execute(cost.TABLES_SQL)
    cost.price_window(session, load_cost_models(source_dir / "config"), start, end,
                      datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m costattr_pipeline.bench.phases")
    parser.add_argument("phase", choices=["run", "baseline"])
    parser.add_argument("--source-dir", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--source-rows", default="{}", help="JSON: rows per source file, for rows in")
    parser.add_argument("--threshold", default="0.02")
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--instance", choices=["memory", "sqlite", "postgres"], default="memory",
                        help="the Dagster instance of a run phase")
    parser.add_argument("--dagster-home", type=Path, help="its DAGSTER_HOME (sqlite, postgres)")
    parser.add_argument("--postgres-url", help="postgresql://user@host:port/db (postgres)")
    parser.add_argument("--floor", action="store_true",
                        help="run: the same graph with steps that do nothing (Dagster's own cost)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.phase == "run":
        result = run_phase(args.source_dir, args.warehouse, args.start, args.end, json.loads(args.source_rows),
                           args.instance, args.dagster_home, args.postgres_url, args.floor)
    else:
        result = baseline_phase(args.source_dir, args.warehouse, args.start, args.end, args.threshold,
                                args.memory_limit, args.threads)
    result["peak_rss_bytes"] = peak_rss_bytes()
    args.result.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
