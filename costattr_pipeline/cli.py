"""The ``costattr`` command: run, demo, validate (contract section 1)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import warnings
from collections.abc import Callable, Sequence

from costattr_pipeline.resources.warehouse import exclusive_use
from costattr_pipeline.target import Target


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="costattr", description="Cost attribution pipeline on Dagster.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--source-dir", help="source exports folder (COSTATTR_SOURCE_DIR, default data/sample)")
    common.add_argument("--config-dir", help="config folder (COSTATTR_CONFIG_DIR, default <source dir>/config)")
    common.add_argument("--warehouse", help="DuckDB file (COSTATTR_WAREHOUSE, default .costattr/warehouse.duckdb)")
    common.add_argument("--target", choices=["local", "prod"], help="COSTATTR_TARGET, default local")
    common.add_argument("--reports-dir", help="monthly cost reports (COSTATTR_REPORTS_DIR, default "
                                              "<warehouse folder>/reports)")
    output = argparse.ArgumentParser(add_help=False)
    shown = output.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true",
                       help="print no progress and no summary (errors and alerts still go to stderr)")
    shown.add_argument("--json", action="store_true",
                       help="print one JSON document (runs, assets with rows and totals, checks, files) and no progress")
    output.add_argument("--verbose", action="store_true",
                        help="also print Dagster's log of every step (a failure's full stack trace)")
    output.add_argument("--wait", type=float, default=60, metavar="SECONDS",
                        help="how long to wait for another run that holds the warehouse (default 60; 0: refuse at once)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", parents=[common, output],
                              help="materialize every asset for the days [start, end)")
    run.add_argument("--start", type=_date, required=True)
    run.add_argument("--end", type=_date, required=True)
    demo = commands.add_parser("demo", parents=[common, output],
                               help="generate sample data into the source folder and run it")
    demo.add_argument("--seed", type=int, default=7)
    validate = commands.add_parser("validate", parents=[common],
                                   help="check config and sources, report every problem and the runs it blocks")
    validate.add_argument("--start", type=_date, help="only what a run from this day would compute")
    validate.add_argument("--end", type=_date, help="only what a run up to this day (excluded) would compute")
    bench = commands.add_parser("bench", help="generate a year of synthetic data and measure the pipeline "
                                              "against bare DuckDB (docs/benchmarks.md)")
    bench.add_argument("--scale", type=float, default=1.0, help="data volume factor (1 = the default year)")
    bench.add_argument("--days", type=int, default=365, help="days of the backfill (default 365)")
    bench.add_argument("--work-dir", default="bench", help="generated data, warehouses and results (default bench/)")
    bench.add_argument("--docs", default="docs/benchmarks.md",
                       help="markdown report to update (default docs/benchmarks.md; '' for none)")
    bench.add_argument("--memory-limit", default="3GB",
                       help="DuckDB memory_limit of every phase (default 3GB: with Python and Dagster, under 4 GiB)")
    bench.add_argument("--threads", type=int, default=2, help="DuckDB threads of every phase (default 2)")
    bench.add_argument("--fixed-scale", type=float, default=0.01,
                       help="also measure every phase at this tiny scale: the fixed cost, and the marginal ratio "
                            "between the two scales (default 0.01; 0 for none)")
    bench.add_argument("--instance", choices=["sqlite", "postgres", "both", "memory"], default="sqlite",
                       help="the Dagster instance of costattr run: the embedded SQLite one (default), a local "
                            "PostgreSQL server the bench starts and stops (dagster-postgres), both side by side, "
                            "or Dagster's in-memory one")
    export = commands.add_parser("export", parents=[common], help="write a month of costattr's figures in an "
                                                                  "exchange format (docs/focus.md)")
    export.add_argument("format", choices=["focus"], help="focus: metering.focus_export as a FOCUS 1.2 dataset")
    export.add_argument("--month", required=True, help="the month, YYYY-MM")
    export.add_argument("--out", required=True, help="the file to write: .parquet or .csv")
    commands.add_parser("status", parents=[common],
                        help="the last runs of this warehouse: their days, state, and what an interrupted run left")
    grants = commands.add_parser("grants", parents=[common],
                                 help="print (or --apply) the REVOKE UPDATE, DELETE, TRUNCATE statements that make the "
                                      "audit tables append-only for a role (docs/operations.md)")
    grants.add_argument("--role", required=True, help="the Snowflake role that must not change the audit tables")
    grants.add_argument("--apply", action="store_true", help="run them on the target's warehouse (prod: Snowflake)")
    schema = commands.add_parser("schema", help="write the JSON Schema of every config file, for editors")
    schema.add_argument("--out", default="docs/schemas", help="folder to write them to (default docs/schemas)")
    return parser


def print_progress(event) -> None:
    """Each run and each asset as it starts and ends: a year's backfill takes minutes."""
    from costattr_pipeline.runner import RunFinished, RunStarted, StepFinished, StepStarted

    if isinstance(event, RunStarted):
        print(f"Run {event.number} of {event.of}: {event.assets} asset(s), partitions {event.first}...{event.last}")
    elif isinstance(event, StepStarted):
        print(f"  {', '.join(event.assets)} ...")
    elif isinstance(event, StepFinished):
        outcome = "done" if event.succeeded else "FAILED"
        print(f"  {', '.join(event.assets)} {outcome} in {event.seconds:.1f} s, {event.rows:,} rows")
    elif isinstance(event, RunFinished):
        run = event.run
        print(f"Run {event.number} of {event.of} ({run.first}...{run.last}): {run.assets} assets, {run.rows:,} rows, "
              f"checks {run.checks_passed} passed, {run.checks_failed} failed, {run.seconds:.1f} s")
    sys.stdout.flush()


def _print_summary(summary) -> None:
    for note in summary.notes:
        print(f"  note: {note}")
    for asset in summary.assets:
        figures = {name: value for name, value in asset.figures.items()
                   if name not in ("partitions", "partition_count", "row_count")}
        shown = ", ".join([f"partitions={asset.partitions}", f"rows={asset.rows}",
                           *(f"{name}={value}" for name, value in {**figures, **asset.metadata}.items())])
        print(f"  {asset.asset}: {shown}")
    failed = [check for check in summary.checks if not check.passed]
    print(f"  checks: {len(summary.checks) - len(failed)} passed, {len(failed)} failed")
    for asset, check, _, severity in failed:
        print(f"    {severity}: {asset} {check}")
    for path in summary.files:
        print(f"  wrote {path}")


def summary_json(summary, start: dt.date, end: dt.date, warehouse: str) -> dict:
    """The run as data for scripts: runs, assets (partitions, rows, seconds, exact totals), checks, files."""
    return {
        "start": start.isoformat(), "end": end.isoformat(), "warehouse": warehouse,
        "runs": [vars(run) for run in summary.runs],
        "assets": [{"asset": asset.asset, "partitions": asset.partitions, "rows": asset.rows,
                    "seconds": asset.seconds, "totals": asset.figures, "metadata": asset.metadata}
                   for asset in summary.assets],
        "checks": [{**check._asdict(), "failing_rows": summary.failing_rows.get((check.asset, check.check))}
                   for check in summary.checks],
        "files": summary.files,
        "notes": summary.notes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", module="dagster")
    if args.command == "bench":
        from costattr_pipeline.bench.runner import run_bench

        if args.scale <= 0 or args.days < 1:
            print("error: --scale must be positive and --days at least 1", file=sys.stderr)
            return 2
        if args.fixed_scale < 0 or (args.fixed_scale and args.fixed_scale >= args.scale):
            print("error: --fixed-scale must be smaller than --scale (0 for none)", file=sys.stderr)
            return 2
        results = run_bench(args.work_dir, scale=args.scale, days=args.days, memory_limit=args.memory_limit,
                            threads=args.threads, docs=args.docs or None, fixed_scale=args.fixed_scale or None,
                            instance=args.instance)
        return 0 if all(table["equal"] for table in results["comparison"]) else 1
    if args.command == "schema":
        from costattr_pipeline.lib.config_schema import write_schemas

        for path in write_schemas(args.out):
            print(f"wrote {path}")
        return 0
    from costattr_pipeline.lib.errors import CostattrInputError, ServiceError
    from costattr_pipeline.resources.warehouse import WarehouseBusy, WarehouseFull
    from costattr_pipeline.runner import RunFailed
    from costattr_pipeline.validation import describe, find_problems

    try:
        target = Target.resolve(args.target, args.source_dir, args.config_dir, args.warehouse, args.reports_dir)
        if args.command == "grants":
            return _grants(target, args.role, args.apply)
        if args.command == "export":
            from costattr_pipeline.defs.exports.focus_file import parse_month, write_focus_month

            rows = write_focus_month(target, parse_month(args.month), args.out)
            print(f"Wrote {rows.num_rows} FOCUS rows of {args.month} to {args.out}")
            return 0
        if args.command == "demo":
            from costattr_pipeline.sample import generate_sample

            period = generate_sample(target.source_dir, seed=args.seed)
            target = Target.resolve(args.target, str(target.source_dir), None, args.warehouse, args.reports_dir)
            if not (args.quiet or args.json):
                print(f"Generated sample data for [{period.start}, {period.end}) in {target.source_dir}")
            start, end = period.start, period.end
        elif args.command == "status":
            start = end = None
        else:
            start, end = args.start, args.end
        if args.command == "validate":
            if (start is None) != (end is None):
                raise ValueError("give both --start and --end, or neither")
            problems = find_problems(target, (start, end) if start else None)
            for line in describe(problems):
                print(f"error: {line}", file=sys.stderr)
            if problems:
                return 2
            scope = f" for [{start}, {end})" if start else ""
            print(f"OK: config {target.config_dir} and sources {target.source_dir} are valid{scope}")
            return 0
        if args.command == "status":
            return _status(target)
        return _run(args, target, start, end)
    except (CostattrInputError, RunFailed, ServiceError, WarehouseBusy, WarehouseFull, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a defect of costattr's: one line, the traceback under --verbose
        if getattr(args, "verbose", False):
            raise
        print(f"error: costattr failed unexpectedly ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
              "run again with --verbose for the traceback", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, target: Target, start: dt.date, end: dt.date) -> int:
    """Validate, hold the warehouse, finish what an interrupted run left, then run ``[start, end)``."""
    from costattr_pipeline.journal import Journal, take_interrupted
    from costattr_pipeline.runner import Warned, run_range
    from costattr_pipeline.validation import find_problems

    # A run checks what it computes: the config and sources of its days and months, before any write.
    problems = find_problems(target, (start, end))
    if problems:
        for problem in problems:
            print(f"error: {problem.message}", file=sys.stderr)
        return 2
    chatty = not (args.quiet or args.json)
    # Dagster's console log (every step's events, a failure's stack trace) only under --verbose; otherwise
    # the assets' warnings (alerts) are printed as one line each and a failure as costattr's one line.
    log_level = "INFO" if args.verbose else "CRITICAL"

    def waiting(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def following(journal: Journal, shown: bool) -> Callable[[object], None]:
        """Record each event in the journal; print the assets' warnings, and progress when ``shown``."""
        def progress(event) -> None:
            journal(event)
            if isinstance(event, Warned):
                if not args.verbose:
                    print(f"{event.asset}: {event.message}", file=sys.stderr, flush=True)
            elif shown:
                print_progress(event)
        return progress

    with exclusive_use(target.warehouse, args.wait, on_wait=waiting):
        notes = []
        for request in take_interrupted(target.warehouse):
            notes += _resume(request, target, start, end, chatty, log_level, following)
        journal = Journal(target.warehouse, start, end, args.command)
        progress = following(journal, chatty)
        if chatty:
            print(f"Running every asset for [{start}, {end}) into {target.warehouse}", flush=True)
        try:
            summary = run_range(target, start, end, progress=progress, log_level=log_level)
        except Exception as error:  # Ctrl-C leaves it running: the next run sees it interrupted
            journal.finish(str(error).splitlines()[0] if str(error) else type(error).__name__)
            raise
        journal.finish()
    summary.notes[:0] = notes
    if args.json:
        print(json.dumps(summary_json(summary, start, end, str(target.warehouse)), indent=1))
    elif chatty:
        _print_summary(summary)
        print("Done.")
    return 0


def _resume(request, target: Target, start: dt.date, end: dt.date, chatty: bool, log_level: str,
            following: Callable) -> list[str]:
    """Finish the days of a run that was killed: again from its first asset (runs are idempotent)."""
    from costattr_pipeline.journal import Journal
    from costattr_pipeline.runner import RunFailed, run_range
    from costattr_pipeline.validation import find_problems

    first, last = request.window
    said = f"the run of [{first}, {last}) started {request.started_at} was interrupted"
    if start <= first and last <= end:
        return [f"{said}; this run covers its days"]
    problems = find_problems(target, (first, last))
    if problems:
        return [f"{said} and is not run again: {problems[0].message}"]
    if chatty:
        print(f"Finishing first: {said}", flush=True)
    journal = Journal(target.warehouse, first, last, f"finish of {request.command}")
    try:
        run_range(target, first, last, progress=following(journal, False), log_level=log_level)
    except RunFailed as error:
        journal.finish(str(error))
        return [f"{said}; running it again failed: {error}"]
    journal.finish()
    return [f"{said}; its days were run again first"]


def _grants(target: Target, role: str, apply: bool) -> int:
    """Print the statements; with ``apply``, run them on the target's warehouse first."""
    from costattr_pipeline.grants import revoke_statements

    statements = revoke_statements(role)
    if apply:
        from costattr_pipeline.lib.config import load_settings
        from costattr_pipeline.resources.targets import resources_for
        from costattr_pipeline.validation import environment_problems

        problems = environment_problems(target)
        if problems:
            raise ValueError(problems[0].message)
        # EnvVar fields are resolved as Dagster resolves them for a run (the nested Snowflake resource has a
        # teardown, hence the context manager).
        resource = resources_for(target, load_settings(target.config_dir))["warehouse"]
        with resource.process_config_and_initialize_cm() as warehouse, warehouse.session() as session:
            session.execute_privileges(statements)
    for statement in statements:
        print(f"{statement};")
    if apply:
        print(f"Applied {len(statements)} statement(s) for role {role}.", file=sys.stderr)
    return 0


def _status(target: Target) -> int:
    """The journal of the warehouse, newest first, and whether a run holds it now."""
    from costattr_pipeline.journal import read_requests

    requests = read_requests(target.warehouse)
    if not requests:
        print(f"No run recorded for {target.warehouse}.")
        return 0
    print(f"Runs of {target.warehouse}, newest first:")
    for request in reversed(requests[-10:]):
        print(f"  {request.describe()}")
        for line in request.pending_lines():
            print(f"    {line}")
    latest = requests[-1]
    if latest.state == "running":
        print(f"The latest run is running (pid {latest.pid}), or was killed: the next run finishes it.")
    return 0

if __name__ == "__main__":
    sys.exit(main())
