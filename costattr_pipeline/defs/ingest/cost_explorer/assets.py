"""``metering/aws_cost_daily``: the append-only Cost Explorer landing table."""


import datetime as dt

import dagster as dg
import duckdb
import pyarrow as pa

from costattr_pipeline.defs.metadata import table_metadata
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.lib.config import AwsSettings
from costattr_pipeline.lib.cost_explorer import Fetch, fetch_days_sql, landing_rows_sql, stage_fetch
from costattr_pipeline.lib.sql import literal, sql_file
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerSource
from costattr_pipeline.resources.warehouse import DuckDBSession, Warehouse, WarehouseSession

AWS_COST_DAILY = dg.AssetKey(["metering", "aws_cost_daily"])
CHECK_SOURCE_PRESENT = "cost_explorer_source_present"
CHECK_LATEST_ROWS_UNIQUE = "latest_rows_unique"

TABLES_SQL = sql_file(__file__, "tables.sql")
UNLANDED_LOADS_SQL = sql_file(__file__, "unlanded_loads.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"


def _append_fetch(session: WarehouseSession, fetch: Fetch, load_id: str, aws: AwsSettings, start: dt.date, end: dt.date,
           loaded_at: dt.datetime) -> pa.Table:
    """Validate a whole fetch, append its rows of the window's days not landed yet; return its rows per day.

    On DuckDB the fetch is parsed inside the warehouse connection and inserted from there (no
    copy through Python, no staging table); on another warehouse it is parsed in an in-memory
    DuckDB and sent as Arrow.
    """
    engine = session.connection if isinstance(session, DuckDBSession) else duckdb.connect()
    stage_fetch(engine, fetch.path, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
                display_name=f"aws_cost_explorer/{fetch.source_name}")
    # A (load_id, cost_date) pair already present means that fetch already landed that day.
    landed = [row["cost_date"] for row in session.rows(
        "SELECT DISTINCT cost_date FROM metering.aws_cost_daily "
        "WHERE load_id = :load_id AND cost_date >= :start_date AND cost_date < :end_date",
        {"load_id": load_id, "start_date": start, "end_date": end})]
    skip = f"cost_date NOT IN ({', '.join(literal(day) for day in landed)})" if landed else "TRUE"
    rows = f"""SELECT *, {literal(load_id)} AS load_id, {literal(fetch.source_name)} AS source_name,
                      {literal(loaded_at)} AS loaded_at
               FROM ({landing_rows_sql(aws.tenant_tag, aws.module_tag, start, end)}) WHERE {skip}"""
    days = engine.sql(fetch_days_sql()).to_arrow_table()
    if isinstance(session, DuckDBSession):
        engine.execute(f"INSERT INTO metering.aws_cost_daily {rows}")
    else:
        session.insert_arrow("metering.aws_cost_daily", engine.sql(rows).to_arrow_table())
        engine.close()
    return days


def _land(session: WarehouseSession, fetches: list[Fetch], aws: AwsSettings, start: dt.date, end: dt.date,
          log) -> int:
    """Land every fetch that may hold unlanded rows of the window and register it; return fetches parsed."""
    params = {"start_date": start, "end_date": end}
    registered = {(row["source_name"], row["file_size"], row["file_mtime_ns"]): row["load_id"]
                  for row in session.rows("SELECT * FROM metering.aws_cost_fetches")}
    load_days = {row["load_id"]: (row["first_day"], row["last_day"]) for row in session.rows(
        "SELECT load_id, MIN(cost_date) AS first_day, MAX(cost_date) AS last_day "
        "FROM metering.aws_cost_fetch_days GROUP BY load_id")}
    unlanded = {row["load_id"] for row in session.rows(UNLANDED_LOADS_SQL, params)}
    # Microseconds: a file rewritten in place and reloaded within a second must still sort later.
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    parsed: set[str] = set()
    for fetch in fetches:
        key = fetch.file_key
        load_id = registered.get(key) or fetch.load_id
        if key not in registered:
            session.execute("INSERT INTO metering.aws_cost_fetches VALUES (:name, :size, :mtime, :load_id)",
                            {"name": key[0], "size": key[1], "mtime": key[2], "load_id": load_id})
        if load_id in parsed:  # the same bytes under two names are one load
            continue
        if load_id in load_days and load_id not in unlanded:
            continue  # registered, and every day it holds in the window is landed: nothing new
        days = _append_fetch(session, fetch, load_id, aws, start, end, loaded_at)
        parsed.add(load_id)
        if load_id not in load_days:
            session.insert_arrow("metering.aws_cost_fetch_days", days.append_column(
                "load_id", pa.array([load_id] * days.num_rows, pa.string())).select(
                ["load_id", "cost_date", "row_count"]))
    log.info(f"Parsed {len(parsed)} of {len(fetches)} Cost Explorer fetch(es) for [{start}, {end})")
    return len(parsed)


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


def build_defs(project: Project) -> dg.Definitions:
    @dg.asset(
        key=AWS_COST_DAILY,
        group_name="ingest",
        kinds={"aws", "duckdb", "snowflake"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "AWS Cost Explorer daily cost grouped by tenant tag and service, landed append-only. "
            "Each fetch (an export file, or a live GetCostAndUsage call with all its pages) is one load "
            "identified by a hash of its content: loading the same fetch again adds nothing. A later fetch "
            "that holds a day already seen restates it: the view `metering.aws_cost_latest` keeps, per day "
            "and grouping, only the latest fetch's rows, and the view `metering.aws_cost_day_rows` the rows every "
            "figure is built from: per day the latest rows of one grouping (tenant x service when the day has "
            "it). `tenant_id` is NULL for cost without a tenant tag."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_SOURCE_PRESENT, asset=AWS_COST_DAILY,
                              description="WARN when no Cost Explorer fetch was found for the run "
                                          "(missing folder or no file): the outputs are empty, not wrong."),
            dg.AssetCheckSpec(CHECK_LATEST_ROWS_UNIQUE, asset=AWS_COST_DAILY, blocking=True,
                              description="ERROR when the rows a day counts (metering.aws_cost_day_rows) hold the same "
                                          "(grouping, tenant, module, service) twice: sums would double count."),
        ],
    )
    def aws_cost_daily(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                       cost_explorer: CostExplorerSource) -> dg.MaterializeResult:
        start, end = window_dates(context)
        aws = config_files.settings().aws
        fetches = cost_explorer.fetches(start, end, aws, context.log)
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            before = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily")
            # Every fetch is validated inside the transaction before the landing insert: a bad
            # file rolls everything back, so nothing is half-written.
            with session.transaction():
                parsed = _land(session, fetches, aws, start, end, context.log)
            added = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily") - before
            duplicates = _duplicate_keys(session, params)
            metadata = table_metadata(
                session, "metering.aws_cost_day_rows", WINDOW, params,
                totals={"total_usd": "SUM(amount_usd)",
                        "untagged_usd": "SUM(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END)"},
                order_by="cost_date, tenant_id NULLS FIRST, service",
            )
        metadata["rows_added"] = dg.MetadataValue.int(int(added))
        metadata["fetches_found"] = dg.MetadataValue.int(len(fetches))
        metadata["fetches_parsed"] = dg.MetadataValue.int(parsed)
        context.log.info(f"Landed {added} new Cost Explorer rows for [{start}, {end}) from {len(fetches)} fetch(es)")
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_SOURCE_PRESENT, passed=bool(fetches), severity=dg.AssetCheckSeverity.WARN,
                    description=None if fetches else "No Cost Explorer fetch found: outputs for AWS are empty.",
                    metadata={"fetches": len(fetches)},
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_LATEST_ROWS_UNIQUE, passed=not duplicates,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"duplicates": dg.MetadataValue.md(
                        "\n".join(str(row) for row in duplicates) or "none")},
                ),
            ],
        )

    return dg.Definitions(assets=[aws_cost_daily])
