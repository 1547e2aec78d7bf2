"""``costattr bench``: generate a year at scale, then measure the pipeline against bare DuckDB.

Phases, each in its own process (its own peak resident memory):
(a) ``costattr run`` over the year as one single-run backfill per partitions definition;
(b) the bare DuckDB baseline (``baseline.sql``): the main output tables straight from the files;
(c) one daily increment (the day after the year) on the warehouse (a) left.
The outputs of (a) and (b) are compared table by table before (c) runs: a fast wrong answer
does not count. (a) and (c) run on the Dagster instance asked for (the embedded SQLite one, a local
PostgreSQL server, or both side by side). The same phases at a tiny scale (``fixed_scale``) give the
fixed cost (what does not depend on data) and, against the main scale, the marginal ratio: how much
time the pipeline adds per second the engine adds, (a - a_fixed) / (b - b_fixed). Dagster's floor
(``bench/floor.py``: the same runs of the same graph with empty steps) says how much of the fixed cost
is Dagster's own, measured once beside the fixed cost (or the only scale). Results go to
``<output dir>/bench-results.json`` and, when asked, a markdown report (``docs/benchmarks.md``).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from costattr_pipeline.bench.generate import BenchData, generate_bench_data

GIB = 1024 ** 3
TARGET_RATIO = 1.5
TARGET_PEAK_RSS = 4 * GIB
TARGET_INCREMENT_SECONDS = 4.0
TARGET_FIXED_BACKFILL_SECONDS = 10.0   # a yearly backfill at scale 0.01
TARGET_FIXED_INCREMENT_SECONDS = 1.5   # a daily increment at scale 0.01
TARGET_MARGINAL_RATIO = 1.1
INSTANCES = {"sqlite": ["sqlite"], "postgres": ["postgres"], "both": ["sqlite", "postgres"], "memory": ["memory"]}

# Compared columns per table (contract section 5), keyed by (a)'s table; (b) holds the same names.
COMPARED_TABLES = {
    "metering.unattributed_costs": ("cost_date", "total_aws_cost_usd", "unattributed_cost_usd", "unattributed_share",
                                    "threshold_used", "exceeds_threshold"),
    "metering.snowflake_credit_daily": ("cost_date", "warehouse_name", "tenant_id", "attribution", "credits",
                                        "cost_usd"),
    "metering.databricks_priced_usage": ("usage_date", "product_id", "tenant_id", "workspace_id", "sku_name",
                                         "usage_unit", "usage_quantity", "unit_price", "cost", "currency"),
    "metering.daily_tenant_summary": ("cost_date", "tenant_id", "module_id", "resource_type", "cost_usd"),
    "metering.snowflake_recurring_query_cost": ("month_start", "cost_rank", "query_parameterized_hash", "query_count",
                                                "warehouse_count", "user_count", "credits", "cost_usd"),
    "metering.snowflake_hierarchical_query_cost": ("month_start", "root_query_id", "root_user_name", "query_count",
                                                   "warehouse_count", "credits", "cost_usd"),
    "metering.k8s_project_daily_cost": ("usage_date", "cluster_id", "node", "namespace", "cost_type",
                                        "cost_model_cpu_cost", "cost_model_memory_cost", "cost_model_volume_cost",
                                        "cost_model_network_cost", "infrastructure_raw_cost", "markup_cost", "raw_cost", "distributed_cost", "total_cost",
                                        "cost_model_hash"),
    "app.cost_items": ("entity_type", "entity_id", "cost_center", "title", "start_month", "end_month", "amount_cents",
                       "currency"),
    "metering.focus_export": ("cost_date", "x_CostattrResourceType", "x_TenantId", "x_ModuleId", "x_AttributionRule",
                              "x_CountedCost", "ServiceName", "x_SourceRecord"),
}


@dataclass(frozen=True)
class TableComparison:
    table: str
    rows_pipeline: int
    rows_baseline: int
    only_in_pipeline: int
    only_in_baseline: int

    @property
    def equal(self) -> bool:
        return self.only_in_pipeline == 0 and self.only_in_baseline == 0


def machine() -> dict[str, object]:
    """Core count and memory of this machine, for the report."""
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_bytes": memory, "platform": platform.platform(),
            "python": platform.python_version(), "duckdb": duckdb.__version__}


def _phase(phase: str, data: BenchData, warehouse: Path, start, end, result: Path, memory_limit: str,
           threads: int, log=print, instance: tuple[str, Path, str | None] | None = None,
           floor: bool = False) -> dict[str, object]:
    command = [sys.executable, "-m", "costattr_pipeline.bench.phases", phase, "--source-dir", data.source_dir,
               "--warehouse", str(warehouse), "--start", str(start), "--end", str(end),
               "--source-rows", json.dumps(data.rows), "--memory-limit", memory_limit, "--threads", str(threads),
               "--result", str(result)] + (["--floor"] if floor else [])
    if instance is not None:  # (kind, DAGSTER_HOME, PostgreSQL URL)
        kind, home, url = instance
        command += ["--instance", kind, "--dagster-home", str(home)] + (["--postgres-url", url] if url else [])
    # What the phase before wrote (the baseline's 1.4 GB file, the generated sources) is written out first:
    # else the kernel writes it back during this phase, and every commit of this one waits behind it (a
    # daily increment measured 9.4 s right after the baseline, 6.0-7.3 s on its own). Not timed.
    os.sync()
    began = time.perf_counter()
    # The phase's target comes from its flags only: no COSTATTR_* setting of the caller leaks in.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("COSTATTR_")}
    environment["PYTHONUNBUFFERED"] = "1"
    # The phase's output is shown as it comes (which asset of the run is going on), and its end kept
    # for the error message.
    tail: collections.deque[str] = collections.deque(maxlen=60)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
                          bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            log(f"    {line.rstrip()}")
    if process.returncode != 0:
        raise RuntimeError(f"bench phase {phase} failed:\n{''.join(tail)}")
    outcome = json.loads(result.read_text(encoding="utf-8"))
    log(f"    phase {phase} done in {time.perf_counter() - began:.1f} s")
    outcome["process_seconds"] = round(time.perf_counter() - began, 3)
    return outcome


def compare_outputs(pipeline: Path, baseline: Path, memory_limit: str = "3GB",
                    threads: int = 2) -> list[TableComparison]:
    """Row multisets of every compared table in (a) and (b): rows only in one side are differences.

    Under the phases' memory limit: unbounded, DuckDB took 5.45 GiB here for the scale-1 year.
    """
    engine = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    try:
        engine.execute(f"ATTACH '{pipeline}' AS pipeline (READ_ONLY)")
        engine.execute(f"ATTACH '{baseline}' AS baseline (READ_ONLY)")
        comparisons = []
        for table, columns in COMPARED_TABLES.items():
            selected = ", ".join(columns)
            a, b = f"pipeline.{table}", f"baseline.{table}"
            counts = engine.execute(f"""
                SELECT (SELECT COUNT(*) FROM {a}), (SELECT COUNT(*) FROM {b}),
                       (SELECT COUNT(*) FROM (SELECT {selected} FROM {a} EXCEPT ALL SELECT {selected} FROM {b})),
                       (SELECT COUNT(*) FROM (SELECT {selected} FROM {b} EXCEPT ALL SELECT {selected} FROM {a}))
            """).fetchone()
            comparisons.append(TableComparison(table, *counts))
        return comparisons
    finally:
        engine.close()


def _gib(value: int) -> str:
    return f"{value / GIB:.2f} GiB"


def _rate(rows: int, seconds: float | None) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def asset_table(assets: list[dict[str, object]]) -> list[str]:
    lines = ["| asset | rows in | rows out | seconds | rows/s (in) |", "|---|---:|---:|---:|---:|"]
    for asset in sorted(assets, key=lambda item: -(item["seconds"] or 0)):
        lines.append(f"| `{asset['asset']}` | {asset['rows_in']:,} | {asset['rows_out']:,} | "
                     f"{asset['seconds'] if asset['seconds'] is not None else '-'} | "
                     f"{_rate(asset['rows_in'], asset['seconds'])} |")
    return lines


def cost_table(results: dict[str, object]) -> list[str]:
    """Fixed and marginal cost, per instance: the same phases at the tiny scale and at the main one."""
    lines = ["Fixed and marginal cost, per Dagster instance (fixed: the same year at the tiny scale; marginal "
             "ratio: (a - a_fixed) / (b - b_fixed), the seconds the pipeline adds per second the engine adds; "
             "seconds of wall clock, in brackets the CPU seconds of the phase's process, every thread):",
             "", "| instance | scale | (a) backfill | (b) baseline | (c) increment | (a)/(b) | marginal ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in results["cost"]:
        cpu = row.get("cpu", {})
        lines.append(f"| {row['instance']} | {row['scale']} | {row['backfill']} ({cpu.get('backfill')}) | "
                     f"{row['baseline']} ({cpu.get('baseline')}) | {row['increment']} ({cpu.get('increment')}) | "
                     f"{row['ratio']} | "
                     f"{row['marginal_ratio'] if row['marginal_ratio'] is not None else '-'} |")
    for kind, floor in results.get("floor", {}).items():
        year, day = floor["backfill"], floor["increment"]
        lines.append(f"| {kind} | Dagster's floor | {year['seconds']} ({year['cpu_seconds']}) | - | "
                     f"{day['seconds']} ({day['cpu_seconds']}) | - | - |")
    if results.get("floor"):
        lines += ["", "Dagster's floor: the same asset graph, partitions, checks and runs, on the same instance, with "
                      "steps that do nothing (`costattr_pipeline/bench/floor.py`): what the year and the day cost "
                      "before costattr's steps do any work, the definitions' loading included. The fixed cost above "
                      "it is costattr's: " + "; ".join(_above_floor(results, kind) for kind in results["floor"]) + "."]
    return lines + [""]


def _above_floor(results: dict[str, object], kind: str) -> str:
    """What the runs at the floor's scale cost above the floor, for one instance."""
    floor = results["floor"][kind]
    row = next(row for row in results["cost"] if row["instance"] == kind and row["scale"] == floor["scale"])
    year = round(row["backfill"] - floor["backfill"]["seconds"], 3)
    day = round(row["increment"] - floor["increment"]["seconds"], 3)
    return f"{kind}, scale {floor['scale']}: year {year} s, increment {day} s"


def report_markdown(results: dict[str, object]) -> str:
    """The measured numbers as markdown: summary, targets, per-asset table, comparison."""
    host = results["machine"]
    data = results["data"]
    a, b, c = results["backfill"], results["baseline"], results["increment"]
    lines = [
        f"Measured {results['measured_at']} on {host['cores']} cores, {_gib(host['memory_bytes'])} memory "
        f"({host['platform']}, Python {host['python']}, DuckDB {host['duckdb']}); warehouse limits "
        f"`memory_limit: {results['memory_limit']}`, `threads: {results['threads']}`.",
        "",
        f"Scale {data['scale']}: {data['tenants']:,} tenants, days [{data['start']}, {data['end']}) plus the increment "
        f"day {data['end']}; generated in {results['generate_seconds']} s.",
        "",
        "| source | rows (year + increment day) |", "|---|---:|",
        *[f"| `{name}` | {rows:,} |" for name, rows in data["rows"].items()],
        "",
        "| phase | seconds | peak RSS | runs |", "|---|---:|---:|---:|",
        f"| (a) `costattr run` over the year (single-run backfills) | {a['seconds']} | {_gib(a['peak_rss_bytes'])} "
        f"| {a['runs']} |",
        f"| (b) bare DuckDB baseline | {b['seconds']} | {_gib(b['peak_rss_bytes'])} | - |",
        f"| (c) one daily increment after the year | {c['seconds']} | {_gib(c['peak_rss_bytes'])} | {c['runs']} |",
        "",
        f"Ratio (a)/(b): **{results['ratio']}** ({results['instance']} instance).",
        "",
        *cost_table(results),
        "| target | wanted | measured | met |", "|---|---|---|---|",
        *[f"| {t['target']} | {t['wanted']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |"
          for t in results["targets"]],
        "",
        "Per asset, (a) the yearly backfill (seconds: the asset's step, from its start to its end, in the "
        "run's event log; rows in: the source rows it reads plus its upstream assets' rows):",
        "",
        *asset_table(a["assets"]),
        "",
        "Per asset, (c) the daily increment:",
        "",
        *asset_table(c["assets"]),
        "",
        "(b) baseline steps (seconds): " + ", ".join(f"{name} {value}" for name, value in b["steps"].items()) + ".",
        "",
        "Outputs of (a) and (b), compared as row multisets on the contract's columns:",
        "",
        "| table | rows (a) | rows (b) | only in (a) | only in (b) | equal |", "|---|---:|---:|---:|---:|---|",
        *[f"| `{t['table']}` | {t['rows_pipeline']:,} | {t['rows_baseline']:,} | {t['only_in_pipeline']} | "
          f"{t['only_in_baseline']} | {'yes' if t['equal'] else '**no**'} |" for t in results["comparison"]],
    ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _servers(kinds: list[str], log=print):
    """The PostgreSQL URL of a throwaway local server when an instance needs one (None otherwise)."""
    if "postgres" not in kinds:
        yield None
        return
    from costattr_pipeline.bench.postgres_server import local_postgres

    with local_postgres() as url:
        log(f"PostgreSQL server for the instance: {url}")
        yield url


def _database(url: str | None, name: str) -> str | None:
    """A fresh database on the server for one measurement (each phase pair starts from an empty instance)."""
    if url is None:
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def _fresh_instance(work_dir: Path, kind: str, url: str | None, name: str) -> tuple[str, Path, str | None]:
    """(kind, an empty DAGSTER_HOME, for postgres a new database): each measured pair starts from nothing."""
    home = work_dir / f"dagster-home-{name}"
    if home.exists():
        shutil.rmtree(home)
    database = f"bench_{work_dir.name}_{name}".replace("-", "_").lower()
    return kind, home, _database(url, database) if kind == "postgres" else None


def _measure_scale(work_dir: Path, data: BenchData, kinds: list[str], url: str | None, memory_limit: str,
                   threads: int, log=print, floor: bool = False) -> dict[str, object]:
    """(a) and (c) on every instance, (b) once, and the comparison of (a) with (b), for one generated scale;
    with ``floor``, also Dagster's floor of (a) and (c) on every instance (``bench/floor.py``)."""
    baseline = work_dir / "baseline.duckdb"
    instances: dict[str, dict[str, object]] = {}
    floors: dict[str, dict[str, object]] = {}
    comparison: list[TableComparison] = []
    for kind in kinds:
        pipeline = work_dir / f"pipeline-{kind}.duckdb"
        for path in (pipeline, Path(f"{pipeline}.wal")):
            path.unlink(missing_ok=True)
        instance = _fresh_instance(work_dir, kind, url, kind)
        log(f"(a) costattr run [{data.start}, {data.end}), {kind} instance")
        backfill = _phase("run", data, pipeline, data.start, data.end, work_dir / f"backfill-{kind}.json",
                          memory_limit, threads, log, instance)
        if not comparison:
            for path in (baseline, Path(f"{baseline}.wal")):
                path.unlink(missing_ok=True)
            log(f"(b) bare DuckDB baseline [{data.start}, {data.end})")
            base = _phase("baseline", data, baseline, data.start, data.end, work_dir / "baseline.json", memory_limit,
                          threads, log)
            comparison = compare_outputs(pipeline, baseline, memory_limit, threads)
        log(f"(c) daily increment [{data.end}, {data.increment_end}), {kind} instance")
        increment = _phase("run", data, pipeline, data.end, data.increment_end, work_dir / f"increment-{kind}.json",
                           memory_limit, threads, log, instance)
        instances[kind] = {"backfill": backfill, "increment": increment}
        if floor:
            # The warehouse is never opened: the empty steps read and write nothing.
            instance = _fresh_instance(work_dir, kind, url, f"{kind}-floor")
            unused = work_dir / f"floor-{kind}.duckdb"
            log(f"(f) Dagster's floor: the same graph with empty steps, [{data.start}, {data.end}) then "
                f"[{data.end}, {data.increment_end}), {kind} instance")
            floors[kind] = {
                "backfill": _phase("run", data, unused, data.start, data.end, work_dir / f"floor-backfill-{kind}.json",
                                   memory_limit, threads, log, instance, floor=True),
                "increment": _phase("run", data, unused, data.end, data.increment_end,
                                    work_dir / f"floor-increment-{kind}.json", memory_limit, threads, log, instance,
                                    floor=True)}
    return {"data": data.to_json(), "instances": instances, "baseline": base, "comparison": comparison,
            "floor": floors}


def _marginal(main: dict[str, object], fixed: dict[str, object] | None, kind: str) -> float | None:
    """Seconds the pipeline adds per second the engine adds, from the tiny scale to the main one."""
    if fixed is None:
        return None
    a = main["instances"][kind]["backfill"]["seconds"] - fixed["instances"][kind]["backfill"]["seconds"]
    b = main["baseline"]["seconds"] - fixed["baseline"]["seconds"]
    return round(a / b, 2) if b > 0 else None


def run_bench(work_dir: Path, scale: float = 1.0, days: int = 365, memory_limit: str = "3GB", threads: int = 2,
              docs: Path | None = None, log=print, fixed_scale: float | None = 0.01,
              instance: str = "sqlite") -> dict[str, object]:
    """Generate the data under ``work_dir``, measure (a), (b), (c) on each instance, compare, write the results;
    with ``fixed_scale``, the same at that tiny scale under ``work_dir/fixed``."""
    work_dir = Path(work_dir).absolute()
    work_dir.mkdir(parents=True, exist_ok=True)
    kinds = INSTANCES[instance]
    began = time.perf_counter()
    log(f"Generating scale {scale} ({days} days + 1) into {work_dir / 'source'}")
    data = generate_bench_data(work_dir / "source", scale=scale, days=days, memory_limit=memory_limit,
                               threads=threads)
    generate_seconds = round(time.perf_counter() - began, 3)
    fixed_data = None
    if fixed_scale:
        fixed_dir = work_dir / "fixed"
        log(f"Generating the fixed-cost scale {fixed_scale} into {fixed_dir / 'source'}")
        fixed_data = generate_bench_data(fixed_dir / "source", scale=fixed_scale, days=days,
                                         memory_limit=memory_limit, threads=threads)
    with _servers(kinds, log) as url:
        # Dagster's floor reads no data: measured once, beside the fixed cost (or the only scale).
        main = _measure_scale(work_dir, data, kinds, url, memory_limit, threads, log, floor=fixed_data is None)
        fixed = None
        if fixed_data is not None:
            log(f"Fixed cost: the same phases at scale {fixed_scale}")
            fixed = _measure_scale(work_dir / "fixed", fixed_data, kinds, url, memory_limit, threads, log, floor=True)
    first = kinds[0]
    backfill, increment = main["instances"][first]["backfill"], main["instances"][first]["increment"]
    base, comparison = main["baseline"], main["comparison"]
    ratio = round(backfill["seconds"] / base["seconds"], 2) if base["seconds"] else None
    peak = max([base["peak_rss_bytes"]] + [phase["peak_rss_bytes"] for measured in main["instances"].values()
                                           for phase in measured.values()])
    targets = [
        {"target": "(a)/(b) time ratio", "wanted": f"<= {TARGET_RATIO}", "measured": str(ratio),
         "met": ratio is not None and ratio <= TARGET_RATIO},
        {"target": "peak RSS of every phase", "wanted": f"<= {_gib(TARGET_PEAK_RSS)}", "measured": _gib(peak),
         "met": peak <= TARGET_PEAK_RSS},
        {"target": "daily increment", "wanted": f"<= {TARGET_INCREMENT_SECONDS:g} s",
         "measured": f"{increment['seconds']} s", "met": increment["seconds"] <= TARGET_INCREMENT_SECONDS},
        {"target": "runs of the yearly backfill", "wanted": "one per partitions definition (2)",
         "measured": str(backfill["runs"]), "met": backfill["runs"] <= 2},
        {"target": "(a) equals (b)", "wanted": "every compared table equal",
         "measured": f"{sum(t.equal for t in comparison)} of {len(comparison)} equal",
         "met": all(t.equal for t in comparison)},
    ]
    if fixed is not None:
        fixed_backfill = fixed["instances"][first]["backfill"]["seconds"]
        fixed_increment = fixed["instances"][first]["increment"]["seconds"]
        marginal = _marginal(main, fixed, first)
        targets += [
            {"target": f"fixed cost: yearly backfill at scale {fixed_scale}",
             "wanted": f"<= {TARGET_FIXED_BACKFILL_SECONDS:g} s", "measured": f"{fixed_backfill} s",
             "met": fixed_backfill <= TARGET_FIXED_BACKFILL_SECONDS},
            {"target": f"fixed cost: daily increment at scale {fixed_scale}",
             "wanted": f"<= {TARGET_FIXED_INCREMENT_SECONDS:g} s", "measured": f"{fixed_increment} s",
             "met": fixed_increment <= TARGET_FIXED_INCREMENT_SECONDS},
            {"target": f"marginal ratio (a - a_fixed) / (b - b_fixed), scale {fixed_scale} to {scale}",
             "wanted": f"<= {TARGET_MARGINAL_RATIO}", "measured": str(marginal),
             "met": marginal is not None and marginal <= TARGET_MARGINAL_RATIO},
            {"target": "(a) equals (b) at the fixed-cost scale", "wanted": "every compared table equal",
             "measured": f"{sum(t.equal for t in fixed['comparison'])} of {len(fixed['comparison'])} equal",
             "met": all(t.equal for t in fixed["comparison"])},
        ]
    scales = [("main", main)] + ([("fixed", fixed)] if fixed is not None else [])
    results = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(), "memory_limit": memory_limit, "threads": threads, "instance": first,
        "instances": kinds, "fixed_scale": fixed_scale,
        "data": data.to_json(), "generate_seconds": generate_seconds,
        "backfill": backfill, "baseline": base, "increment": increment, "ratio": ratio,
        "comparison": [{**t.__dict__, "equal": t.equal} for t in comparison], "targets": targets,
        "cost": [{"instance": kind, "scale": measured["data"]["scale"],
                  "backfill": measured["instances"][kind]["backfill"]["seconds"],
                  "baseline": measured["baseline"]["seconds"],
                  "increment": measured["instances"][kind]["increment"]["seconds"],
                  "cpu": {phase: measured[phase]["cpu_seconds"] if phase == "baseline"
                          else measured["instances"][kind][phase]["cpu_seconds"]
                          for phase in ("backfill", "baseline", "increment")},
                  "ratio": round(measured["instances"][kind]["backfill"]["seconds"] / measured["baseline"]["seconds"],
                                 2) if measured["baseline"]["seconds"] else None,
                  "marginal_ratio": _marginal(main, fixed, kind) if name == "main" else None}
                 for kind in kinds for name, measured in scales],
    }
    if fixed is not None:
        results["fixed"] = {"data": fixed["data"], "baseline": fixed["baseline"],
                            "instances": fixed["instances"],
                            "comparison": [{**t.__dict__, "equal": t.equal} for t in fixed["comparison"]]}
    floors = (fixed or main)["floor"]
    results["floor"] = {kind: {"scale": (fixed or main)["data"]["scale"],
                               **{phase: {"seconds": floors[kind][phase]["seconds"],
                                          "cpu_seconds": floors[kind][phase]["cpu_seconds"]}
                                  for phase in ("backfill", "increment")}} for kind in kinds}
    results["all_instances"] = main["instances"]
    (work_dir / "bench-results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    markdown = report_markdown(results)
    (work_dir / "bench-results.md").write_text(markdown, encoding="utf-8")
    if docs is not None:
        write_docs(Path(docs), markdown)
    log(markdown)
    return results


DOCS_HEADER = """# Benchmarks

`costattr bench` (or `make bench`) generates a year of synthetic sources in the contract's formats
inside DuckDB (nothing is held in Python memory), then measures in one invocation, each phase in its
own process: (a) `costattr run` over the year as single-run backfills, (b) a bare DuckDB baseline
computing the same main tables from the same files, (c) one daily increment after the year, and the
peak resident memory of each (the phase process's own `VmHWM`). It compares the outputs of (a) and (b) table by table. The year includes
a Kubernetes source: 20 clusters, 2,000 nodes and 5,000 namespaces (a pod per namespace and day, a claim
for every other namespace) priced by two cost models into `metering.k8s_project_daily_cost`; the
baseline runs the project's own cost SQL over views of the Parquet exports (no landing, validation or
checks), as it does for the Snowflake split. The baseline also writes the FOCUS export with the project's own
SQL (its tables of what varies and the view) over its own tables, since the seventh pass: before, (b) left out
the largest step of (a).

```sh
costattr bench                                 # default scale 1: 1,000 tenants, 20 M Snowflake queries, ...
costattr bench --scale 0.1 --work-dir /tmp/b   # smaller; data and results under the work dir
```

Options: `--scale` (row counts and tenants, 1 = the default year), `--days` (365), `--work-dir`
(`bench/`, git-ignored: generated sources, the two warehouses, `bench-results.json` and `.md`),
`--docs` (the markdown report, default `docs/benchmarks.md`; `--docs ''` writes none), and the DuckDB
limits `--memory-limit` / `--threads` (default 3GB and 2, written into the generated `settings.yaml` as
`warehouse: {memory_limit, threads}`).

`--fixed-scale` (default 0.01, `0` for none) measures the same three phases on a year generated at
that tiny scale, in the same invocation: the **fixed cost** (what a backfill costs when there is
almost no data: Dagster's bookkeeping, checks, metadata, process start) and the **marginal ratio**
`(a - a_fixed) / (b - b_fixed)`, the seconds the pipeline adds per second the bare engine adds
between the two scales. After the fixed-cost phases, **Dagster's floor** (f): the same two runs of
the year and of the day, on a fresh instance of the same kind, with costattr's asset graph (the same
assets, partitions, checks, backfill policies and step names) whose steps do nothing
(`costattr_pipeline/bench/floor.py`): what Dagster alone costs to record what the UI shows, before
costattr's steps do any work. The fixed cost above the floor is costattr's own. `--instance` picks the Dagster instance (a) and (c) record in: `sqlite` (the
default: the project's `dagster.yaml` storage in a fresh `DAGSTER_HOME`, what `costattr run` uses),
`postgres` (the production storage of `docs/deploy/dagster.yaml`, dagster-postgres on a throwaway
local PostgreSQL server the bench starts and stops: Debian's `postgresql`; as root the server runs as
the `postgres` user), `both` (the two side by side) or `memory` (Dagster's in-memory instance).
Every phase reports wall-clock seconds and, in brackets, the CPU seconds of its process: this
machine's 2 cores are shared with other work, and CPU seconds do not grow while a phase waits for a core.

"""


def write_docs(path: Path, measured: str) -> None:
    """Replace the measured section of ``path`` (everything under '## Latest measurement') and keep the rest."""
    marker = "## Latest measurement"
    existing = path.read_text(encoding="utf-8") if path.exists() else DOCS_HEADER
    head, _, tail = existing.partition(marker)
    notes_marker = "\n## Findings"
    notes = tail[tail.index(notes_marker):] if notes_marker in tail else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head.rstrip()}\n\n{marker}\n\n{measured}{notes}", encoding="utf-8")
