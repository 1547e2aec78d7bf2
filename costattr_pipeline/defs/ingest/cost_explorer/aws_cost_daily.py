"""``metering/aws_cost_daily``: the append-only Cost Explorer landing table, and its daily schedule."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import duckdb
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.lib.config import AwsSettings
from costattr_pipeline.lib.cost_explorer import (FETCH_DAYS_SQL, LANDING_ROWS_SQL, Fetch, FetchFile, batches,
                                                  landing_params, stage_fetches, with_object_limit)
from costattr_pipeline.lib.sql import bind_script, sql_file
from costattr_pipeline.metadata import partition_metadata, rows_check
from costattr_pipeline.project import Project, current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerSource
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

AWS_COST_DAILY = dg.AssetKey(["metering", "aws_cost_daily"])
CHECK_SOURCE_PRESENT = "cost_explorer_source_present"
CHECK_LATEST_ROWS_UNIQUE = "latest_rows_unique"
# Cost Explorer restates the last 24-48 h: each daily run lands yesterday and refetches the two days before.
REFETCH_DAYS = 2

TABLES_SQL = sql_file(__file__, "aws_cost_daily__tables.sql")
UNLANDED_LOADS_SQL = sql_file(__file__, "aws_cost_daily__unlanded_loads.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
# A fetch's rows of the window, tagged with the load, except the days that load already landed.
FETCH_ROWS_SQL = """
SELECT *, :load_id AS load_id, :source_name AS source_name, :loaded_at AS loaded_at
FROM fetch_rows
WHERE NOT list_contains(:landed_days, cost_date)"""


def trailing_days(tick: dt.datetime, project: Project, days: int = REFETCH_DAYS + 1) -> tuple[dt.date, dt.date]:
    """The ``days`` complete days before the tick (first and last, inclusive), clipped to the partitions start."""
    last = tick.date() - dt.timedelta(days=1)
    return project.clip((last - dt.timedelta(days=days - 1), last))


def _append_fetch(session: WarehouseSession, engine: duckdb.DuckDBPyConnection, fetch: Fetch, load_id: str,
                  start: dt.date, end: dt.date, loaded_at: dt.datetime) -> list[dict]:
    """Append the staged fetch's rows of the window's days not landed yet; return its rows per day."""
    # A (load_id, cost_date) pair already present means that fetch already landed that day.
    landed = [row["cost_date"] for row in session.rows(
        f"SELECT DISTINCT cost_date FROM metering.aws_cost_daily WHERE load_id = :load_id AND {WINDOW}",
        {"load_id": load_id, "start_date": start, "end_date": end})]
    session.insert_from_local(engine, "metering.aws_cost_daily", FETCH_ROWS_SQL, {
        **landing_params(fetch.path, start, end), "load_id": load_id, "source_name": fetch.source_name,
        "loaded_at": loaded_at, "landed_days": landed}, {"fetch_rows": LANDING_ROWS_SQL})
    return engine.sql(bind_script(FETCH_DAYS_SQL, {"filename": str(fetch.path)})).to_arrow_table().to_pylist()


def _land_atomically(session: WarehouseSession, fetches: list[Fetch], aws: AwsSettings, start: dt.date,
                     end: dt.date, log) -> tuple[int, list[dg.AssetCheckResult]]:
    """:func:`_land` in one transaction, audited: a bad file or a failed blocking check rolls everything
    back, so nothing is half-written. Returns the fetches parsed and the blocking checks' results.

    A file DuckDB cannot read aborts the transaction; after the rollback it is named (each file
    of its batch is read alone), or, when a fetch is one response object over read_json's object
    limit, the landing runs again with the limit raised to the fetch's size.
    """
    def attempt(object_size: int | None) -> tuple[int, list[dg.AssetCheckResult]]:
        with session.transaction():
            parsed = _land(session, fetches, aws, start, end, log, object_size)
            duplicates = _duplicate_keys(session, {"start_date": start, "end_date": end})
            return parsed, audit(AWS_COST_DAILY, rows_check(CHECK_LATEST_ROWS_UNIQUE, duplicates, "duplicates"))

    return with_object_limit(
        attempt, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
        on_retry=lambda size: log.info(f"A Cost Explorer response object is over the read limit: reading again "
                                       f"with a limit of {size} bytes"))


def _land(session: WarehouseSession, fetches: list[Fetch], aws: AwsSettings, start: dt.date, end: dt.date,
          log, object_size: int | None) -> int:
    """Land every fetch that may hold unlanded rows of the window and register it; return fetches parsed.

    The fetches to parse are validated and read a batch at a time (as many files as DuckDB has
    threads: one JSON array is parsed by one thread) in the warehouse's local engine.
    """
    params = {"start_date": start, "end_date": end}
    registered = {(row["source_name"], row["file_size"], row["file_mtime_ns"]): row["load_id"]
                  for row in session.rows("SELECT * FROM metering.aws_cost_fetches")}
    load_days = {row["load_id"]: (row["first_day"], row["last_day"]) for row in session.rows(
        "SELECT load_id, MIN(cost_date) AS first_day, MAX(cost_date) AS last_day "
        "FROM metering.aws_cost_fetch_days GROUP BY load_id")}
    unlanded = {row["load_id"] for row in session.rows(UNLANDED_LOADS_SQL, params)}
    # Microseconds: a file rewritten in place and reloaded within a second must still sort later.
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    # Unregistered files are hashed in parallel: hashlib releases the GIL on large reads.
    unregistered = [fetch for fetch in fetches if fetch.file_key not in registered]
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(unregistered)))) as pool:
        hashed = dict(zip([fetch.file_key for fetch in unregistered],
                          pool.map(lambda fetch: fetch.load_id, unregistered)))
    to_parse: dict[str, Fetch] = {}  # load_id -> the first fetch with those bytes
    for fetch in fetches:
        key = fetch.file_key
        load_id = registered.get(key) or hashed[key]
        if key not in registered:
            session.execute("INSERT INTO metering.aws_cost_fetches VALUES (:name, :size, :mtime, :load_id)",
                            {"name": key[0], "size": key[1], "mtime": key[2], "load_id": load_id})
        if load_id in to_parse:  # the same bytes under two names are one load
            continue
        if load_id in load_days and load_id not in unlanded:
            continue  # registered, and every day it holds in the window is landed: nothing new
        to_parse[load_id] = fetch
    with session.local_engine() as engine:
        width = int(engine.execute("SELECT current_setting('threads')").fetchall()[0][0])
        by_path = {fetch.path: (load_id, fetch) for load_id, fetch in to_parse.items()}
        files = [FetchFile(fetch.path, f"aws_cost_explorer/{fetch.source_name}") for fetch in to_parse.values()]
        for batch in batches(files, width):
            stage_fetches(engine, batch, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
                          object_size=object_size)
            for file in batch:
                load_id, fetch = by_path[file.path]
                days = _append_fetch(session, engine, fetch, load_id, start, end, loaded_at)
                if load_id not in load_days and days:
                    session.insert_arrow("metering.aws_cost_fetch_days", _fetch_days(load_id, days))
    log.info(f"Parsed {len(to_parse)} of {len(fetches)} Cost Explorer fetch(es) for [{start}, {end})")
    return len(to_parse)


def _fetch_days(load_id: str, days: list[dict]) -> pa.Table:
    return pa.table({"load_id": pa.array([load_id] * len(days), pa.string()),
                     "cost_date": pa.array([day["cost_date"] for day in days], pa.date32()),
                     "row_count": pa.array([day["row_count"] for day in days], pa.int64())})


def _duplicate_keys(session: WarehouseSession, params: dict) -> list[dict]:
    """Keys the counted rows of the window hold twice (at most 20).

    Grouping 18 M rows by five columns cost 3.5 s a year; grouping one hash of them costs 2 s. Equal
    hashes are only candidates: the exact grouping runs when there are any, and decides.
    """
    key = "cost_date, grouped_by, tenant_id, module_id, service"
    if not session.rows(f"""SELECT 1 FROM metering.aws_cost_day_rows WHERE {WINDOW}
                            GROUP BY hash({key}) HAVING COUNT(*) > 1 LIMIT 1""", params):
        return []
    return session.rows(f"""
        SELECT {key}, COUNT(*) AS copies
        FROM metering.aws_cost_day_rows WHERE {WINDOW}
        GROUP BY {key} HAVING COUNT(*) > 1
        ORDER BY cost_date LIMIT 20""", params)


def aws_cost_daily(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                   cost_explorer: CostExplorerSource) -> dg.MaterializeResult:
    """AWS Cost Explorer daily cost grouped by tenant tag and service, landed append-only.

    Each fetch (an export file, or a live GetCostAndUsage call with all its pages) is one load
    identified by a hash of its content: loading the same fetch again adds nothing. A later fetch
    that holds a day already seen restates it: the view `metering.aws_cost_latest` keeps, per day and
    grouping, only the latest fetch's rows, and the view `metering.aws_cost_day_rows` the rows every
    figure is built from: per day the latest rows of one grouping (tenant x service when the day has
    it). `tenant_id` is NULL for cost without a tenant tag.
    """
    start, end = window_dates(context)
    aws = config_files.settings().aws
    fetches = cost_explorer.fetches(start, end, aws, context.log)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        before = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily")
        parsed, blocking = _land_atomically(session, fetches, aws, start, end, context.log)
        added = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily") - before
        # A day's figures are those of the rows it counts (metering.aws_cost_day_rows, a view of the landing).
        metadata = partition_metadata(
            context, session, "metering.aws_cost_day_rows", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, schema_table="metering.aws_cost_daily",
            figures={"total_usd": "SUM(amount_usd)",
                     "untagged_usd": "SUM(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END)",
                     "estimated_rows": "SUM(CASE WHEN estimated THEN 1 ELSE 0 END)"},
            order_by="cost_date, tenant_id NULLS FIRST, service")
    metadata["run_rows_added"] = dg.MetadataValue.int(int(added))
    metadata["run_fetches_found"] = dg.MetadataValue.int(len(fetches))
    metadata["run_fetches_parsed"] = dg.MetadataValue.int(parsed)
    context.log.info(f"Landed {added} new Cost Explorer rows for [{start}, {end}) from {len(fetches)} fetch(es)")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK_SOURCE_PRESENT, passed=bool(fetches), severity=dg.AssetCheckSeverity.WARN,
                description=None if fetches else "No Cost Explorer fetch found: outputs for AWS are empty.",
                metadata={"fetches": len(fetches)},
            ),
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_SOURCE_PRESENT, asset=AWS_COST_DAILY,
                      description="WARN when no Cost Explorer fetch was found for the run (missing folder or no "
                                  "file): the outputs are empty, not wrong."),
    dg.AssetCheckSpec(CHECK_LATEST_ROWS_UNIQUE, asset=AWS_COST_DAILY, blocking=True,
                      description="ERROR when the rows a day counts (metering.aws_cost_day_rows) hold the same "
                                  "(grouping, tenant, module, service) twice: sums would double count."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=AWS_COST_DAILY, group_name="ingest", kinds={"aws", "duckdb", "snowflake"},
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(aws_cost_daily)
    job = dg.define_asset_job("cost_explorer_landing", selection=[AWS_COST_DAILY],
                              description="Land Cost Explorer fetches for a range of days.")
    schedule = range_schedule(
        "cost_explorer_daily", "0 6 * * *", job, lambda tick: trailing_days(tick, project),
        "06:00 UTC: land yesterday's Cost Explorer cost and refetch the 2 days before (Cost Explorer restates "
        "the last 24-48 h).")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
