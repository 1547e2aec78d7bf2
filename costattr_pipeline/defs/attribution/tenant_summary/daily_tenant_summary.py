"""``metering/daily_tenant_summary``: all cost per day, tenant, module and resource type."""

from dataclasses import dataclass

import dagster as dg

from costattr_pipeline.defs.attribution import OWNERS
from costattr_pipeline.defs.attribution.focus.focus_cost_daily import COST_EXPLORER_REPLACED_DAYS, FOCUS_COST_DAILY
from costattr_pipeline.audit import audit
from costattr_pipeline.defs.attribution.snowflake_credits.snowflake_credit_daily import SNOWFLAKE_CREDIT_DAILY
from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import AWS_COST_DAILY
from costattr_pipeline.defs.ingest.databricks.databricks_priced_usage import DATABRICKS_PRICED_USAGE
from costattr_pipeline.defs.ingest.usage.external_api_costs import EXTERNAL_API_COSTS
from costattr_pipeline.lib.sql import sql_file, union_all
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

DAILY_TENANT_SUMMARY = dg.AssetKey(["metering", "daily_tenant_summary"])
CHECK_RECONCILES = "reconciles_with_sources"

TABLES_SQL = sql_file(__file__, "daily_tenant_summary__tables.sql")
SUMMARY_SQL = sql_file(__file__, "daily_tenant_summary.sql")
RECONCILE_SQL = sql_file(__file__, "daily_tenant_summary__reconcile.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
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
    CostSource("aws", "v_aws_cost_daily", sql_file(__file__, "sources/aws.sql")),
    CostSource("snowflake", "v_snowflake_credit_daily", sql_file(__file__, "sources/snowflake.sql")),
    CostSource("databricks", "databricks_priced_usage", sql_file(__file__, "sources/databricks.sql")),
    CostSource("external_api", "v_external_api_costs", sql_file(__file__, "sources/external_api.sql")),
    CostSource("focus", "focus_cost_daily", sql_file(__file__, "sources/focus.sql")),
)
NO_REPLACED_DAYS = "SELECT CAST(NULL AS DATE) AS cost_date WHERE 1 = 0"


# A day's cost, its part without a tenant, and the cost of each source (plotted day by day).
FIGURES = {
    "total_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 18)))",
    "unattributed_usd": "SUM(CAST(CASE WHEN tenant_id IS NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18)))",
    **{f"{source.resource_type}_usd": f"SUM(CAST(CASE WHEN resource_type = '{source.resource_type}' THEN cost_usd "
                                      "ELSE 0 END AS DECIMAL(38, 18)))" for source in COST_SOURCES},
    "tenants": "COUNT(DISTINCT tenant_id)",
}


def present_sources(session: WarehouseSession, sources: tuple[CostSource, ...] = COST_SOURCES) -> list[CostSource]:
    """The sources whose table or view exists: a concern that never ran contributes nothing."""
    existing = session.relations_in("metering")
    return [source for source in sources if source.relation in existing]


def replaced_days(sources: list[CostSource]) -> str:
    """The relation ``cost_explorer_replaced_days``: days whose AWS cost a FOCUS dataset counts instead of
    Cost Explorer (settings focus.cost_explorer_overlap); none when no FOCUS source is present."""
    focus = any(source.relation == "focus_cost_daily" for source in sources)
    return COST_EXPLORER_REPLACED_DAYS if focus else NO_REPLACED_DAYS


def source_rows(sources: list[CostSource]) -> dict[str, str]:
    """The relation ``cost_source_rows`` the summary SQL reads: the UNION ALL of the sources' fragments,
    and ``cost_explorer_replaced_days`` that the AWS fragment leaves out (days whose AWS cost a FOCUS
    dataset counts instead, settings focus.cost_explorer_overlap)."""
    return {"cost_source_rows": union_all(source.sql for source in sources) if sources else NO_SOURCE_ROWS,
            "cost_explorer_replaced_days": replaced_days(sources)}


def daily_tenant_summary(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every cost of a day, per tenant (NULL = unattributed), module and resource type.

    AWS (latest Cost Explorer rows, one grouping per day), Snowflake (credit cost), Databricks (priced
    usage by tenant tag; rows without a price are excluded until priced), external API costs (at
    provider cost) and FOCUS datasets (counted charges, one resource type per provider: `focus_aws`,
    `focus_microsoft`...; a day whose AWS cost FOCUS counts has no Cost Explorer rows). Per day and source the rows add up to the source's total exactly; a source whose
    table does not exist yet contributes nothing.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        sources = present_sources(session)
        with session.transaction():
            session.execute(SUMMARY_SQL, params, source_rows(sources))
            blocking = audit(DAILY_TENANT_SUMMARY, rows_check(
                CHECK_RECONCILES, session.rows(RECONCILE_SQL, params, source_rows(sources)), "mismatches"))
        metadata = partition_metadata(
            context, session, "metering.daily_tenant_summary", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, figures=FIGURES,
            order_by="cost_date, tenant_id NULLS FIRST, resource_type, module_id NULLS FIRST")
    metadata["sources_read"] = dg.MetadataValue.text(", ".join(source.resource_type for source in sources) or "none")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_RECONCILES, asset=DAILY_TENANT_SUMMARY, blocking=True,
                      description="ERROR unless, per day and source, the summary's rows (attributed + unattributed) "
                                  "add up to the source's total."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=DAILY_TENANT_SUMMARY,
                     deps=[AWS_COST_DAILY, SNOWFLAKE_CREDIT_DAILY, DATABRICKS_PRICED_USAGE, EXTERNAL_API_COSTS,
                           FOCUS_COST_DAILY],
                     group_name="attribution", kinds={"duckdb", "snowflake"}, partitions_def=project.daily,
                     owners=OWNERS, tags=asset_tags(source="all", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.daily_tenant_summary"),
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(daily_tenant_summary)
    return dg.Definitions(assets=[asset])
