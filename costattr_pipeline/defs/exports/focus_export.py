"""``metering/focus_export``: costattr's attributed costs as a FOCUS 1.2 dataset, checked against the summary."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from costattr_pipeline.audit import audit

from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import (
    DAILY_TENANT_SUMMARY, CostSource, kubernetes_attribution, present_sources, replaced_days)
from costattr_pipeline.defs.exports import OWNERS
from costattr_pipeline.lib.billing_config import BillingConfig, load_billing_config, months
from costattr_pipeline.lib.sql import sql_file, union_all
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.defs.attribution.focus.focus_cost_daily import previous_and_current_period
from costattr_pipeline.project import current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

FOCUS_EXPORT = dg.AssetKey(["metering", "focus_export"])
CHECK_MATCHES_SUMMARY = "sums_to_daily_tenant_summary"
FOCUS_VERSION = "1.2"
UNKNOWN_ACCOUNT = "unknown"

TABLES_SQL = sql_file(__file__, "focus_export__tables.sql")
VIEW_SQL = sql_file(__file__, "focus_export__view.sql")
ROWS_SQL = sql_file(__file__, "focus_export__rows.sql")
RECONCILE_SQL = sql_file(__file__, "focus_export__reconcile.sql")
VIEW = "metering.focus_export"
WHOLE_ROWS = "metering.focus_export_rows"
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"


@dataclass(frozen=True)
class ExportSource:
    """One source of the export: ``cost``, the relation it reads and its fragment in sources/ (the rows the run
    stores in ``table``), and ``as_focus``, the fragment in as_focus/ that reads the stored rows as the view's
    export rows. Without ``as_focus`` the rows come with every FOCUS column and are stored whole."""

    cost: CostSource
    table: str
    as_focus: str | None = None


def _source(name: str, relation: str, resource_type: str = "", also_reads: tuple[str, ...] = (),
            whole: bool = False) -> ExportSource:
    cost = CostSource(resource_type or name, relation, sql_file(__file__, f"sources/{name}.sql"), also_reads=also_reads)
    if whole:
        return ExportSource(cost, WHOLE_ROWS)
    return ExportSource(cost, f"metering.focus_export_{name}", sql_file(__file__, f"as_focus/{name}.sql"))


# The same charges the daily tenant summary counts, one source each.
EXPORT_SOURCES = (
    _source("aws", "v_aws_cost_daily"),
    _source("snowflake", "v_snowflake_credit_daily"),
    _source("databricks", "databricks_priced_usage"),
    _source("external_api", "v_external_api_costs"),
    _source("focus", "focus_cost_daily", whole=True),
    _source("kubernetes", "k8s_project_daily_cost"),
    _source("aws_on_kubernetes", "k8s_project_daily_cost", "aws", also_reads=("v_aws_cost_daily",)),
)
AWS_ON_KUBERNETES = EXPORT_SOURCES[-1]
# The view's rows of costattr's own sources: each table read as export rows, then as FOCUS columns.
COSTATTR_ROWS = {"costattr_rows": ROWS_SQL,
                 "export_rows": union_all(source.as_focus for source in EXPORT_SOURCES if source.as_focus)}


def rate_card_versions(billing: BillingConfig, start: dt.date, end: dt.date) -> tuple[str, dict]:
    """The relation ``rate_card_versions`` (period_start, rate_card_version) of the window's months."""
    bound = [(month, version.version) for month in months(start, end)
             if (version := billing.version_in_force(month)) is not None]
    if not bound:
        return "SELECT CAST(NULL AS DATE) AS period_start, CAST(NULL AS VARCHAR) AS rate_card_version WHERE 1 = 0", {}
    params: dict[str, object] = {}
    parts = []
    for index, (month, version) in enumerate(bound):
        params[f"period_{index}"], params[f"version_{index}"] = month, version
        parts.append(f"SELECT CAST(:period_{index} AS DATE) AS period_start, "
                     f"CAST(:version_{index} AS VARCHAR) AS rate_card_version")
    return " UNION ALL ".join(parts), params


def create_tables(session: WarehouseSession) -> None:
    """The export's tables and its view. The table earlier versions exported to becomes the table of rows kept
    whole (one rename: its columns are that table's), so a warehouse keeps every day it exported."""
    if session.relations_in("metering").get("focus_export") == "BASE TABLE":
        session.execute(f"ALTER TABLE {VIEW} RENAME TO {WHOLE_ROWS}")
    session.execute(TABLES_SQL)
    session.execute(VIEW_SQL, relations=COSTATTR_ROWS)


def export_window(session: WarehouseSession, sources: list[ExportSource], params: Mapping[str, object],
                  relations: Mapping[str, str]) -> None:
    """Replace the window's rows of every table of the export with the rows of ``sources`` (inside the caller's
    transaction): a source that is not there leaves its table empty for the window."""
    statements = [f"DELETE FROM {table} WHERE {WINDOW}"
                  for table in dict.fromkeys(source.table for source in EXPORT_SOURCES)]
    bound = dict(relations)
    for index, source in enumerate(sources):
        name = f"stored_rows_{index}"
        if source.as_focus:
            bound[name] = source.cost.sql
        else:  # whole: the source's export rows as FOCUS columns
            bound[name], bound["export_rows"] = ROWS_SQL, source.cost.sql
        statements.append(f"INSERT INTO {source.table} SELECT * FROM {name}")
    session.execute(";\n".join(statements), params, bound)


def focus_export(context: dg.AssetExecutionContext, warehouse: Warehouse,
                 config_files: CostattrConfig) -> dg.MaterializeResult:
    """costattr's attributed costs as a FOCUS 1.2 cost and usage dataset (`costattr export focus` writes a month).

    One row per source charge and tenant: each Cost Explorer group, Snowflake warehouse-day split, Databricks
    usage record, external API cost line, counted FOCUS charge and Kubernetes namespace cost that
    daily_tenant_summary counts. The FOCUS
    columns are filled from what the source says (see docs/focus.md); costattr's own are `x_TenantId`,
    `x_ModuleId`, `x_AttributionRule`, `x_RateCardVersion` (external API costs, passed through under the
    rate card), `x_CostattrResourceType`, `x_CountedCost` (the amount costattr counts) and, for a charge split
    between tenants, FOCUS 1.3's allocation columns (`x_AllocatedMethodId`, ...). Per day and resource type the
    export adds up to the summary exactly (blocking check).

    `metering.focus_export` is a view: each source stores only what varies from row to row, in
    `metering.focus_export_<source>` (FOCUS charges whole, in `metering.focus_export_rows`), and the view writes
    out the FOCUS columns. A run decides a day's tenants and rate card version once; the view never changes a
    past day by itself.
    """
    start, end = window_dates(context)
    settings = config_files.settings()
    overlap_accounts = settings.focus.cost_explorer_overlap.billing_account_ids
    billing = load_billing_config(config_files.path)
    versions, version_params = rate_card_versions(billing, start, end)
    namespaces = dict(billing.namespaces)
    params = {"start_date": start, "end_date": end, "snowflake_account": UNKNOWN_ACCOUNT,
              "cost_explorer_account": overlap_accounts[0] if len(overlap_accounts) == 1 else UNKNOWN_ACCOUNT,
              **version_params}
    with warehouse.session() as session:
        create_tables(session)
        sources = present_sources(session, tuple(source.cost for source in EXPORT_SOURCES))
        attribution, k8s_params = kubernetes_attribution(
            settings, namespaces, on_aws=AWS_ON_KUBERNETES.cost in sources)
        params.update(k8s_params)
        relations = {"cost_explorer_replaced_days": replaced_days(sources), "rate_card_versions": versions,
                     **attribution}
        with session.transaction():
            export_window(session, [source for source in EXPORT_SOURCES if source.cost in sources], params, relations)
            blocking = audit(FOCUS_EXPORT, rows_check(
                CHECK_MATCHES_SUMMARY, session.rows(RECONCILE_SQL, params)
                if "v_daily_tenant_summary" in session.relations_in("metering") else [], "mismatches"))
        metadata = partition_metadata(
            context, session, VIEW, WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, schema_table=WHOLE_ROWS,
            figures={"billed_cost": "SUM(CAST(BilledCost AS DECIMAL(38, 18)))",
                    "effective_cost": "SUM(CAST(EffectiveCost AS DECIMAL(38, 18)))",
                    "counted_cost": "SUM(CAST(x_CountedCost AS DECIMAL(38, 18)))",
                    "split_rows": "SUM(CASE WHEN x_AllocatedMethodId IS NOT NULL THEN 1 ELSE 0 END)"},
            order_by="cost_date, x_CostattrResourceType, x_TenantId NULLS FIRST, x_SourceRecord",
        )
        metadata["dagster/table_name"] = dg.MetadataValue.text(VIEW)
    metadata["focus_version"] = dg.MetadataValue.text(FOCUS_VERSION)
    return dg.MaterializeResult(metadata=metadata, check_results=blocking)


CHECKS = [
    dg.AssetCheckSpec(CHECK_MATCHES_SUMMARY, asset=FOCUS_EXPORT, blocking=True,
                      description="ERROR unless, per day and resource type, the export's x_CountedCost adds up to "
                                  "metering.daily_tenant_summary exactly."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=FOCUS_EXPORT, deps=[DAILY_TENANT_SUMMARY], group_name="exports",
                     owners=OWNERS, tags=asset_tags(source="all", layer="export"),
                     metadata=table_metadata(TABLES_SQL, VIEW, WHOLE_ROWS),
                     kinds={"duckdb", "snowflake"}, partitions_def=project.daily,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(focus_export)
    job = dg.define_asset_job("focus_export", selection=[FOCUS_EXPORT],
                              description="Rebuild the FOCUS export of a range of days from the summary.")
    schedule = range_schedule(
        "focus_export_daily", "0 9 * * *", job, lambda tick: previous_and_current_period(tick, project),
        "09:00 UTC: the FOCUS export of the previous and the current month, after the morning's landings and "
        "roll-up (restatements reach back a month).")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
