"""``metering/aws_cost_daily``: the append-only Cost Explorer landing table, and its daily schedule."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg
import duckdb
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.config import AwsSettings, Settings
from costattr_pipeline.lib.cost_explorer import (FETCH_DAYS_SQL, LANDING_ROWS_SQL, Fetch, FetchFile, batches,
                                                  landing_params, stage_fetches, with_object_limit)
from costattr_pipeline.lib.sql import bind_script, sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import Project, current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerSource
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

AWS_COST_DAILY = dg.AssetKey(["metering", "aws_cost_daily"])
CHECK_SOURCE_PRESENT = "cost_explorer_source_present"
CHECK_LATEST_ROWS_UNIQUE = "latest_rows_unique"
# Cost Explorer restates the last 24-48 h: each daily run lands yesterday and refetches the two days before.
REFETCH_DAYS = 2

# The tables and views as written (their column comments are the schema the UI shows), and as run: the
# views convert amounts with the rates of config.fx_to_usd, so its table comes first and the relation is bound.
TABLES_TEXT = sql_file(__file__, "aws_cost_daily__tables.sql")
TABLES_SQL = bind_script(fx_rates.TABLES_SQL + "\n" + TABLES_TEXT, relations=fx_rates.RELATIONS)
UNLANDED_DELIVERIES_SQL = sql_file(__file__, "aws_cost_daily__unlanded_deliveries.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
# A fetch's rows of the window, tagged with its delivery, except the days that delivery already landed.
FETCH_ROWS_SQL = """
SELECT *, :load_id AS load_id, :source_name AS source_name, :loaded_at AS loaded_at
FROM fetch_rows
WHERE NOT list_contains(:landed_days, cost_date)"""
FETCH_DAYS_SCHEMA = pa.schema([("load_id", pa.string()), ("cost_date", pa.date32()), ("row_count", pa.int64())])


@dataclass(frozen=True)
class Delivery:
    """A fetch file as it stands, to land: its content hash and when this delivery was found (its rows'
    loaded_at)."""

    fetch: Fetch
    load_id: str
    loaded_at: dt.datetime


def trailing_days(tick: dt.datetime, project: Project, days: int = REFETCH_DAYS + 1) -> tuple[dt.date, dt.date]:
    """The ``days`` complete days before the tick (first and last, inclusive), clipped to the partitions start."""
    last = tick.date() - dt.timedelta(days=1)
    return project.clip((last - dt.timedelta(days=days - 1), last))


def _append_delivery(session: WarehouseSession, engine: duckdb.DuckDBPyConnection, delivery: Delivery,
                     start: dt.date, end: dt.date) -> list[dict]:
    """Append the staged delivery's rows of the window's days it has not landed yet; return its rows per day."""
    # Rows of this file's bytes under its name from this delivery on (an earlier delivery of the same
    # bytes has an earlier loaded_at) mean the delivery already landed that day.
    fetch = delivery.fetch
    landed = [row["cost_date"] for row in session.rows(
        "SELECT DISTINCT cost_date FROM metering.aws_cost_daily WHERE load_id = :load_id "
        f"AND source_name = :source_name AND loaded_at >= :loaded_at AND {WINDOW}",
        {"load_id": delivery.load_id, "source_name": fetch.source_name, "loaded_at": delivery.loaded_at,
         "start_date": start, "end_date": end})]
    session.insert_from_local(engine, "metering.aws_cost_daily", FETCH_ROWS_SQL, {
        **landing_params(fetch.path, start, end), "load_id": delivery.load_id, "source_name": fetch.source_name,
        "loaded_at": delivery.loaded_at, "landed_days": landed}, {"fetch_rows": LANDING_ROWS_SQL})
    return engine.sql(bind_script(FETCH_DAYS_SQL, {"filename": str(fetch.path)})).to_arrow_table().to_pylist()


def _land_atomically(session: WarehouseSession, fetches: list[Fetch], settings: Settings, start: dt.date,
                     end: dt.date, log) -> tuple[int, list[dg.AssetCheckResult]]:
    """:func:`_land` in one transaction, with settings.yaml's rates (which the views convert with), audited: a
    bad file or a failed blocking check rolls everything back, so nothing is half-written. Returns the
    fetches parsed and the blocking checks' results.

    A file DuckDB cannot read aborts the transaction; after the rollback it is named (each file
    of its batch is read alone), or, when a fetch is one response object over read_json's object
    limit, the landing runs again with the limit raised to the fetch's size.
    """
    aws = settings.aws
    params = {"start_date": start, "end_date": end}

    def attempt(object_size: int | None) -> tuple[int, list[dg.AssetCheckResult]]:
        with session.transaction():
            fx_rates.load_fx_rates(session, settings)
            parsed = _land(session, fetches, aws, start, end, log, object_size)
            duplicates = _duplicate_keys(session, params)
            return parsed, audit(AWS_COST_DAILY, rows_check(CHECK_LATEST_ROWS_UNIQUE, duplicates, "duplicates"),
                                 fx_rates.fx_rate_check(session, "metering.aws_cost_day_rows", "cost_date", "amount",
                                                        WINDOW, params))

    return with_object_limit(
        attempt, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
        on_retry=lambda size: log.info(f"A Cost Explorer response object is over the read limit: reading again "
                                       f"with a limit of {size} bytes"))


def _land(session: WarehouseSession, fetches: list[Fetch], aws: AwsSettings, start: dt.date, end: dt.date,
          log, object_size: int | None) -> int:
    """Land every delivery that may hold unlanded rows of the window and register it; return fetches parsed.

    The fetches to parse are validated and read a batch at a time (as many files as DuckDB has
    threads: one JSON array is parsed by one thread) in the warehouse's local engine.
    """
    to_land = _deliveries_to_land(session, fetches, start, end)
    known_loads = {row["load_id"] for row in session.rows("SELECT DISTINCT load_id FROM metering.aws_cost_fetch_days")}
    with session.local_engine() as engine:
        width = int(engine.execute("SELECT current_setting('threads')").fetchall()[0][0])
        by_path = {delivery.fetch.path: delivery for delivery in to_land}
        files = [FetchFile(delivery.fetch.path, f"aws_cost_explorer/{delivery.fetch.source_name}")
                 for delivery in to_land]
        for batch in batches(files, width):
            stage_fetches(engine, batch, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
                          object_size=object_size)
            for file in batch:
                delivery = by_path[file.path]
                days = _append_delivery(session, engine, delivery, start, end)
                if delivery.load_id not in known_loads and days:
                    session.insert_arrow("metering.aws_cost_fetch_days", _fetch_days(delivery.load_id, days))
                    known_loads.add(delivery.load_id)
    log.info(f"Parsed {len(to_land)} of {len(fetches)} Cost Explorer fetch(es) for [{start}, {end})")
    return len(to_land)


def _deliveries_to_land(session: WarehouseSession, fetches: list[Fetch], start: dt.date, end: dt.date
                        ) -> list[Delivery]:
    """Register each fetch file's new state, and return the deliveries that may hold unlanded days of the window.

    A file in a state of its latest delivery is unchanged: it is parsed only when that delivery has a day of
    the window not landed yet. Any other file is hashed: the bytes of its latest delivery are a new state of
    that delivery (a copied folder lands nothing), other bytes a new delivery, found now (even bytes that an
    earlier delivery or another file held: the newest delivery of a day wins).
    """
    params = {"start_date": start, "end_date": end}
    current: dict[str, tuple[str, dt.datetime]] = {}
    states: set[tuple[str, int, int]] = set()
    for row in session.rows("SELECT * FROM metering.aws_cost_current_deliveries"):
        current[row["source_name"]] = (row["load_id"], row["loaded_at"])
        states.add((row["source_name"], row["file_size"], row["file_mtime_ns"]))
    days_known = {row["load_id"]: row["in_window"] for row in session.rows(
        "SELECT load_id, bool_or(cost_date >= :start_date AND cost_date < :end_date) AS in_window "
        "FROM metering.aws_cost_fetch_days GROUP BY load_id", params)}
    unlanded = {row["source_name"] for row in session.rows(UNLANDED_DELIVERIES_SQL, params)}
    # Microseconds: a file rewritten in place and reloaded within a second must still sort later.
    found_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    # Changed files are hashed in parallel: hashlib releases the GIL on large reads.
    changed = [fetch for fetch in fetches if fetch.file_key not in states]
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(changed)))) as pool:
        hashed = dict(zip([fetch.source_name for fetch in changed], pool.map(lambda fetch: fetch.load_id, changed)))
    to_land = []
    for fetch in fetches:
        name, size, mtime = fetch.file_key
        load_id, loaded_at = current.get(name, ("", found_at))
        if name in hashed:
            new_delivery = hashed[name] != load_id
            load_id, loaded_at = (hashed[name], found_at) if new_delivery else (load_id, loaded_at)
            session.execute("INSERT INTO metering.aws_cost_fetches VALUES (:name, :size, :mtime, :load_id, :loaded_at)",
                            {"name": name, "size": size, "mtime": mtime, "load_id": load_id, "loaded_at": loaded_at})
            if new_delivery:
                # Its days are known when its bytes were parsed before: it waits for a run over them.
                if days_known.get(load_id, True):
                    to_land.append(Delivery(fetch, load_id, loaded_at))
                continue
        if name in unlanded:
            to_land.append(Delivery(fetch, load_id, loaded_at))
    return to_land


def _fetch_days(load_id: str, days: list[dict]) -> pa.Table:
    return arrow_tables.from_rows([{**day, "load_id": load_id} for day in days], FETCH_DAYS_SCHEMA)


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

    Each delivery of a fetch (an export file as it stands, or a live GetCostAndUsage call with all its
    pages) is landed once: running again adds nothing, while a file replaced by other bytes (even bytes
    it held before, such as an original copied back over a bad delivery) is a new delivery that restates
    its days. A later fetch that holds a day already seen restates it: the view `metering.aws_cost_latest`
    keeps, per day and grouping, only the latest fetch's rows, and the view `metering.aws_cost_day_rows`
    the rows every figure is built from: per day the latest rows of one grouping (tenant x service when
    the day has it). `tenant_id` is NULL for cost without a tenant tag.

    Amounts are landed as delivered, with their currency (the group's Unit); in
    `metering.aws_cost_day_rows`, `amount_usd` is every amount in USD at the rate in force on its day
    (settings.yaml `fx_to_usd`, kept on the row as `fx_rate_to_usd`).
    """
    start, end = window_dates(context)
    settings = config_files.settings()
    fetches = cost_explorer.fetches(start, end, settings.aws, context.log)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        before = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily")
        parsed, blocking = _land_atomically(session, fetches, settings, start, end, context.log)
        added = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily") - before
        # A day's figures are those of the rows it counts (metering.aws_cost_day_rows, a view of the landing).
        metadata = partition_metadata(
            context, session, "metering.aws_cost_day_rows", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_TEXT, schema_table="metering.aws_cost_daily",
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
    fx_rates.fx_rate_check_spec(AWS_COST_DAILY),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=AWS_COST_DAILY, group_name="ingest", kinds={"aws", "duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="aws", layer="landing"),
                     metadata=table_metadata(TABLES_TEXT, "metering.aws_cost_daily"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(aws_cost_daily)
    job = dg.define_asset_job("cost_explorer_landing", selection=[AWS_COST_DAILY],
                              description="Land Cost Explorer fetches for a range of days.")
    schedule = range_schedule(
        "cost_explorer_daily", "0 6 * * *", job, lambda tick: trailing_days(tick, project),
        "06:00 UTC: land yesterday's Cost Explorer cost and refetch the 2 days before (Cost Explorer restates "
        "the last 24-48 h).")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
