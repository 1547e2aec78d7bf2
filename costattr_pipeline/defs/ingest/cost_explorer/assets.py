"""``metering/aws_cost_daily``: the append-only Cost Explorer landing table."""


import datetime as dt

import dagster as dg
import pyarrow as pa

from costattr_pipeline.defs.metadata import table_metadata
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.lib.cost_explorer import parse_fetch
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerSource
from costattr_pipeline.resources.warehouse import Warehouse

AWS_COST_DAILY = dg.AssetKey(["metering", "aws_cost_daily"])
CHECK_SOURCE_PRESENT = "cost_explorer_source_present"
CHECK_LATEST_ROWS_UNIQUE = "latest_rows_unique"

TABLES_SQL = sql_file(__file__, "tables.sql")
LAND_SQL = sql_file(__file__, "land.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"


def _with_load_identity(rows: pa.Table, load_id: str, source_name: str, loaded_at: dt.datetime) -> pa.Table:
    count = rows.num_rows
    return (rows.append_column("load_id", pa.array([load_id] * count, pa.string()))
                .append_column("source_name", pa.array([source_name] * count, pa.string()))
                .append_column("loaded_at", pa.array([loaded_at] * count, pa.timestamp("us"))))


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
            "and grouping, only the latest fetch's rows. `tenant_id` is NULL for cost without a tenant tag."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_SOURCE_PRESENT, asset=AWS_COST_DAILY,
                              description="WARN when no Cost Explorer fetch was found for the run "
                                          "(missing folder or no file): the outputs are empty, not wrong."),
            dg.AssetCheckSpec(CHECK_LATEST_ROWS_UNIQUE, asset=AWS_COST_DAILY, blocking=True,
                              description="ERROR when the latest rows of a day hold the same "
                                          "(grouping, tenant, module, service) twice: sums would double count."),
        ],
    )
    def aws_cost_daily(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                       cost_explorer: CostExplorerSource) -> dg.MaterializeResult:
        start, end = window_dates(context)
        aws = config_files.settings().aws
        fetches = cost_explorer.fetches(start, end, aws, context.log)
        loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)

        # Parse and validate every fetch before anything is written.
        staged: list[pa.Table] = []
        seen: set[str] = set()
        for fetch in fetches:
            load_id = fetch.load_id
            if load_id in seen:  # two files with the same bytes are one load
                continue
            seen.add(load_id)
            rows = parse_fetch(fetch.path, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
                               display_name=f"aws_cost_explorer/{fetch.source_name}", start=start, end=end)
            staged.append(_with_load_identity(rows, load_id, fetch.source_name, loaded_at))

        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            before = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily")
            with session.transaction():
                session.execute("DELETE FROM metering.aws_cost_staging")
                for rows in staged:
                    session.insert_arrow("metering.aws_cost_staging", rows)
                session.execute(LAND_SQL, params)
            added = session.scalar("SELECT COUNT(*) FROM metering.aws_cost_daily") - before
            duplicates = session.rows(f"""
                SELECT cost_date, grouped_by, tenant_id, module_id, service, COUNT(*) AS copies
                FROM metering.aws_cost_latest WHERE {WINDOW}
                GROUP BY cost_date, grouped_by, tenant_id, module_id, service HAVING COUNT(*) > 1
                ORDER BY cost_date LIMIT 20""", params)
            metadata = table_metadata(
                session, "metering.aws_cost_latest", WINDOW, params,
                totals={"total_usd": "SUM(amount_usd)",
                        "untagged_usd": "SUM(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END)"},
                order_by="cost_date, tenant_id NULLS FIRST, service",
            )
        metadata["rows_added"] = dg.MetadataValue.int(int(added))
        metadata["fetches_read"] = dg.MetadataValue.int(len(fetches))
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
