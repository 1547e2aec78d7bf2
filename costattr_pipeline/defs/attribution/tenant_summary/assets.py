"""``metering/daily_tenant_summary``: all cost per day, tenant, module and resource type."""


from dataclasses import dataclass

import dagster as dg

from costattr_pipeline.defs.ingest.cost_explorer.assets import AWS_COST_DAILY
from costattr_pipeline.defs.ingest.usage.assets import EXTERNAL_API_COSTS
from costattr_pipeline.defs.metadata import markdown_table, table_metadata
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

DAILY_TENANT_SUMMARY = dg.AssetKey(["metering", "daily_tenant_summary"])
# Built by the Snowflake and Databricks concerns; read when their tables exist.
SNOWFLAKE_CREDIT_DAILY = dg.AssetKey(["metering", "snowflake_credit_daily"])
DATABRICKS_PRICED_USAGE = dg.AssetKey(["metering", "databricks_priced_usage"])
CHECK_RECONCILES = "reconciles_with_sources"

TABLES_SQL = sql_file(__file__, "tables.sql")
SUMMARY_SQL = sql_file(__file__, "daily_tenant_summary.sql")
RECONCILE_SQL = sql_file(__file__, "reconcile.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
SOURCE_ROWS = "__SOURCE_ROWS__"
NO_SOURCE_ROWS = ("SELECT CAST(NULL AS DATE) AS cost_date, CAST(NULL AS VARCHAR) AS tenant_id, "
                  "CAST(NULL AS VARCHAR) AS module_id, CAST(NULL AS VARCHAR) AS resource_type, "
                  "CAST(NULL AS DECIMAL(38, 18)) AS cost_usd WHERE 1 = 0")


@dataclass(frozen=True)
class CostSource:
    """One source of cost: the relation it reads (in schema ``metering``) and its SQL fragment."""

    resource_type: str
    relation: str
    sql: str


COST_SOURCES = (
    CostSource("aws", "aws_cost_day_rows", sql_file(__file__, "sources/aws.sql")),
    CostSource("snowflake", "snowflake_credit_daily", sql_file(__file__, "sources/snowflake.sql")),
    CostSource("databricks", "databricks_priced_usage", sql_file(__file__, "sources/databricks.sql")),
    CostSource("external_api", "external_api_costs", sql_file(__file__, "sources/external_api.sql")),
)


def present_sources(session: WarehouseSession) -> list[CostSource]:
    """The sources whose table or view exists: a concern that never ran contributes nothing."""
    existing = {str(row["name"]).lower() for row in session.rows(
        "SELECT table_name AS name FROM information_schema.tables WHERE UPPER(table_schema) = 'METERING'")}
    return [source for source in COST_SOURCES if source.relation in existing]


def with_source_rows(text: str, sources: list[CostSource]) -> str:
    """``text`` with its source-rows placeholder replaced by the UNION ALL of the sources' fragments."""
    union = "\nUNION ALL\n".join(f"SELECT * FROM ({source.sql.strip()}) AS {source.resource_type}_rows"
                                 for source in sources)
    return text.replace(SOURCE_ROWS, union or NO_SOURCE_ROWS)


def build_defs(project: Project) -> dg.Definitions:
    @dg.asset(
        key=DAILY_TENANT_SUMMARY,
        deps=[AWS_COST_DAILY, SNOWFLAKE_CREDIT_DAILY, DATABRICKS_PRICED_USAGE, EXTERNAL_API_COSTS],
        group_name="attribution",
        kinds={"duckdb", "snowflake"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Every cost of a day, per tenant (NULL = unattributed), module and resource type: AWS (latest Cost "
            "Explorer rows, one grouping per day), Snowflake (credit cost), Databricks (priced usage by tenant "
            "tag; rows without a price are excluded until priced) and external API costs (at provider cost). "
            "Per day and source the rows add up to the source's total exactly; a source whose table does not "
            "exist yet contributes nothing."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_RECONCILES, asset=DAILY_TENANT_SUMMARY, blocking=True,
                              description="ERROR unless, per day and source, the summary's rows (attributed + "
                                          "unattributed) add up to the source's total."),
        ],
    )
    def daily_tenant_summary(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        start, end = window_dates(context)
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            sources = present_sources(session)
            with session.transaction():
                session.execute(with_source_rows(SUMMARY_SQL, sources), params)
            mismatches = session.rows(with_source_rows(RECONCILE_SQL, sources), params)
            metadata = table_metadata(
                session, "metering.daily_tenant_summary", WINDOW, params,
                totals={"total_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 18)))",
                        "unattributed_usd": "SUM(CAST(CASE WHEN tenant_id IS NULL THEN cost_usd ELSE 0 END "
                                            "AS DECIMAL(38, 18)))"},
                order_by="cost_date, tenant_id NULLS FIRST, resource_type, module_id NULLS FIRST",
            )
        metadata["sources_read"] = dg.MetadataValue.text(", ".join(source.resource_type for source in sources)
                                                         or "none")
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_RECONCILES, passed=not mismatches, severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"mismatches": dg.MetadataValue.md(markdown_table(mismatches))},
                ),
            ],
        )

    return dg.Definitions(assets=[daily_tenant_summary])
