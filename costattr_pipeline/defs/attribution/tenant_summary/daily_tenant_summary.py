"""``metering/daily_tenant_summary``: all cost per day, tenant, module and resource type."""

from dataclasses import dataclass

import dagster as dg

from costattr_pipeline.defs.alerts.records import LOG_CHANNEL, record_alerts, share_breaches
from costattr_pipeline.defs.alerts.records import TABLES_SQL as ALERT_TABLES_SQL
from costattr_pipeline.defs.attribution import OWNERS
from costattr_pipeline.defs.attribution.focus.focus_cost_daily import COST_EXPLORER_REPLACED_DAYS, FOCUS_COST_DAILY
from costattr_pipeline.audit import audit
from costattr_pipeline.defs.cost_models.k8s_project_daily_cost import K8S_PROJECT_DAILY_COST
from costattr_pipeline.defs.attribution.snowflake_credits.snowflake_credit_daily import SNOWFLAKE_CREDIT_DAILY
from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import AWS_COST_DAILY
from costattr_pipeline.defs.ingest.databricks.databricks_priced_usage import DATABRICKS_PRICED_USAGE
from costattr_pipeline.defs.ingest.usage.external_api_costs import EXTERNAL_API_COSTS
from costattr_pipeline.lib.billing_config import load_billing_config
from costattr_pipeline.lib.config import Settings
from costattr_pipeline.lib.cost_model import CostModels, load_cost_models
from costattr_pipeline.lib.databricks import tag_path
from costattr_pipeline.lib.money import largest_remainder_relation
from costattr_pipeline.lib.sql import sql_file, union_all
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

DAILY_TENANT_SUMMARY = dg.AssetKey(["metering", "daily_tenant_summary"])
CHECK_RECONCILES = "reconciles_with_sources"
CHECK_K8S_UNATTRIBUTED = "kubernetes_unattributed_share_within_threshold"

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
    total_sql: str | None = None  # the source's own total per day, when its fragment joins (default: the fragment)
    also_reads: tuple[str, ...] = ()  # other relations of ``metering`` the fragment reads


COST_SOURCES = (
    CostSource("aws", "v_aws_cost_daily", sql_file(__file__, "sources/aws.sql"),
               sql_file(__file__, "sources/aws_total.sql")),
    CostSource("snowflake", "v_snowflake_credit_daily", sql_file(__file__, "sources/snowflake.sql")),
    CostSource("databricks", "databricks_priced_usage", sql_file(__file__, "sources/databricks.sql")),
    CostSource("external_api", "v_external_api_costs", sql_file(__file__, "sources/external_api.sql")),
    CostSource("focus", "focus_cost_daily", sql_file(__file__, "sources/focus.sql")),
    CostSource("kubernetes", "k8s_project_daily_cost", sql_file(__file__, "sources/kubernetes.sql"),
               sql_file(__file__, "sources/kubernetes_total.sql")),
    # The node cost of clusters on AWS, moved from its tenant tag to the clusters' namespaces (counted in aws_total).
    CostSource("aws", "k8s_project_daily_cost", sql_file(__file__, "sources/aws_on_kubernetes.sql"),
               sql_file(__file__, "sources/aws_on_kubernetes_total.sql"), also_reads=("v_aws_cost_daily",)),
)
AWS_ON_KUBERNETES = COST_SOURCES[-1]
K8S_NAMESPACE_LABELS_SQL = sql_file(__file__, "k8s_namespace_labels.sql")
NO_NAMESPACE_MAP = "SELECT CAST(NULL AS VARCHAR) AS namespace, CAST(NULL AS VARCHAR) AS tenant_id WHERE 1 = 0"
NO_AWS_CLUSTERS = "SELECT CAST(NULL AS VARCHAR) AS cluster_id, CAST(NULL AS VARCHAR) AS tag_value WHERE 1 = 0"
MARKUP_SOURCE_TYPES = {"AWS": "aws", "SNOWFLAKE": "snowflake", "DATABRICKS": "databricks"}
NO_CLOUD_MARKUPS = ("SELECT CAST(NULL AS VARCHAR) AS resource_type, CAST(NULL AS DECIMAL(18, 6)) AS markup_fraction "
                    "WHERE 1 = 0")
MOVED_SPLIT_INPUTS = {"k8s_moved_nano_split": "nano_input", "k8s_moved_fine_split": "fine_input"}
NO_REPLACED_DAYS = "SELECT CAST(NULL AS DATE) AS cost_date WHERE 1 = 0"


# A day's cost, its part without a tenant, and the cost of each source (plotted day by day).
FIGURES = {
    "total_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 18)))",
    "unattributed_usd": "SUM(CAST(CASE WHEN tenant_id IS NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18)))",
    **{f"{source.resource_type}_usd": f"SUM(CAST(CASE WHEN resource_type = '{source.resource_type}' THEN cost_usd "
                                      "ELSE 0 END AS DECIMAL(38, 18)))" for source in COST_SOURCES},
    "markup_usd": "SUM(CAST(markup_usd AS DECIMAL(38, 18)))",
    "tenants": "COUNT(DISTINCT tenant_id)",
}


def present_sources(session: WarehouseSession, sources: tuple[CostSource, ...] = COST_SOURCES) -> list[CostSource]:
    """The sources whose table or view exists: a concern that never ran contributes nothing."""
    existing = session.relations_in("metering")
    return [source for source in sources
            if source.relation in existing and all(other in existing for other in source.also_reads)]


def replaced_days(sources: list[CostSource]) -> str:
    """The relation ``cost_explorer_replaced_days``: days whose AWS cost a FOCUS dataset counts instead of
    Cost Explorer (settings focus.cost_explorer_overlap); none when no FOCUS source is present."""
    focus = any(source.relation == "focus_cost_daily" for source in sources)
    return COST_EXPLORER_REPLACED_DAYS if focus else NO_REPLACED_DAYS


def kubernetes_attribution(settings: Settings, namespaces: dict[str, str], on_aws: bool = True
                           ) -> tuple[dict[str, str], dict[str, object]]:
    """The relations ``k8s_namespace_labels`` (each namespace's tenant and module from its pods' labels),
    ``k8s_namespace_map`` (tenants.yaml ``namespaces``) the Kubernetes fragments join, and ``k8s_aws_clusters``
    (cluster_id, tag_value: settings kubernetes.clusters' AWS tenant tag values; empty unless ``on_aws``, i.e.
    unless the fragment moving that AWS cost to the clusters' namespaces runs), with their parameters."""
    params: dict[str, object] = {"k8s_tenant_label_path": tag_path(settings.kubernetes.tenant_label),
                                 "k8s_module_label_path": tag_path(settings.kubernetes.module_label)}
    parts = []
    for index, (namespace, tenant_id) in enumerate(sorted(namespaces.items())):
        params[f"k8s_namespace_{index}"], params[f"k8s_namespace_tenant_{index}"] = namespace, tenant_id
        parts.append(f"SELECT CAST(:k8s_namespace_{index} AS VARCHAR) AS namespace, "
                     f"CAST(:k8s_namespace_tenant_{index} AS VARCHAR) AS tenant_id")
    clusters = []
    for index, (cluster_id, cluster) in enumerate(sorted(settings.kubernetes.clusters.items())):
        if on_aws and cluster.aws_tenant_tag_value is not None:
            params[f"k8s_cluster_{index}"] = cluster_id
            params[f"k8s_cluster_tag_{index}"] = cluster.aws_tenant_tag_value
            clusters.append(f"SELECT CAST(:k8s_cluster_{index} AS VARCHAR) AS cluster_id, "
                            f"CAST(:k8s_cluster_tag_{index} AS VARCHAR) AS tag_value")
    return ({"k8s_namespace_labels": K8S_NAMESPACE_LABELS_SQL,
             "k8s_aws_tagged": sql_file(__file__, "k8s_aws_tagged.sql"),
             "k8s_aws_moved": sql_file(__file__, "k8s_aws_moved.sql"),
             "k8s_infrastructure_counted": sql_file(__file__, "k8s_infrastructure_counted.sql"),
             "k8s_namespace_map": " UNION ALL ".join(parts) if parts else NO_NAMESPACE_MAP,
             "k8s_aws_clusters": " UNION ALL ".join(clusters) if clusters else NO_AWS_CLUSTERS,
             **{name: largest_remainder_relation(split_input) for name, split_input in MOVED_SPLIT_INPUTS.items()}},
            params)


def cloud_markups(models: CostModels) -> tuple[str, dict[str, object]]:
    """The relation ``cloud_markups`` (resource_type, markup_fraction): the markup of each cost model of
    source_type AWS, SNOWFLAKE or DATABRICKS, for the summary rows of that resource type."""
    params: dict[str, object] = {}
    parts = []
    for index, model in enumerate(model for model in models.models if model.source_type in MARKUP_SOURCE_TYPES):
        params[f"markup_type_{index}"] = MARKUP_SOURCE_TYPES[model.source_type]
        params[f"markup_fraction_{index}"] = model.markup.fraction
        parts.append(f"SELECT CAST(:markup_type_{index} AS VARCHAR) AS resource_type, "
                     f"CAST(:markup_fraction_{index} AS DECIMAL(18, 6)) AS markup_fraction")
    return (" UNION ALL ".join(parts) if parts else NO_CLOUD_MARKUPS), params


def source_rows(sources: list[CostSource], attribution: dict[str, str] | None = None) -> dict[str, str]:
    """The relation ``cost_source_rows`` the summary SQL reads: the UNION ALL of the sources' fragments;
    ``cost_source_totals`` the reconcile check reads (each source's own total); ``cost_explorer_replaced_days``
    that the AWS fragment leaves out (days whose AWS cost a FOCUS dataset counts instead, settings
    focus.cost_explorer_overlap); and ``attribution``, the relations of :func:`kubernetes_attribution`."""
    return {"cost_source_rows": union_all(source.sql for source in sources) if sources else NO_SOURCE_ROWS,
            "cost_source_totals": (union_all(source.total_sql or source.sql for source in sources) if sources
                                   else NO_SOURCE_ROWS),
            "cost_explorer_replaced_days": replaced_days(sources), "k8s_aws_clusters": NO_AWS_CLUSTERS,
            "cloud_markups": NO_CLOUD_MARKUPS,
            **(attribution or {})}


def kubernetes_breaches(session: WarehouseSession, settings: Settings, params: dict) -> list[dict]:
    """Days whose unattributed share of the Kubernetes cost is strictly over the threshold in force."""
    day_totals = session.rows("""
        SELECT cost_date, 'kubernetes' AS resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS total_cost_usd,
               SUM(CAST(CASE WHEN tenant_id IS NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18)))
                   AS unattributed_cost_usd
        FROM metering.daily_tenant_summary
        WHERE cost_date >= :start_date AND cost_date < :end_date AND resource_type = 'kubernetes'
        GROUP BY cost_date ORDER BY cost_date""", params)
    return share_breaches(day_totals, settings)


def daily_tenant_summary(context: dg.AssetExecutionContext, warehouse: Warehouse,
                         config_files: CostattrConfig) -> dg.MaterializeResult:
    """Every cost of a day, per tenant (NULL = unattributed), module and resource type.

    AWS (latest Cost Explorer rows, one grouping per day), Snowflake (credit cost), Databricks (priced
    usage by tenant tag; rows without a price are excluded until priced), external API costs (at
    provider cost), FOCUS datasets (counted charges, one resource type per provider: `focus_aws`,
    `focus_microsoft`...; a day whose AWS cost FOCUS counts has no Cost Explorer rows) and Kubernetes
    (each namespace's total cost after distribution; its tenant from tenants.yaml `namespaces` or the pod
    label settings kubernetes.tenant_label, its module from kubernetes.module_label; unmapped namespaces are
    unattributed). A Kubernetes cluster on AWS (settings kubernetes.clusters' `aws_tenant_tag_value`) is
    not a tenant: its tagged AWS cost, less the node cost Kubernetes already counts, goes to the tenants of
    its namespaces. Per day and source the rows add up to the source's own total exactly (AWS: less that
    node cost); a source whose table does not exist yet contributes nothing. `markup_usd`: the markup of the
    cost model of source_type AWS, SNOWFLAKE or DATABRICKS on that source's cost (cost_usd stays raw).
    """
    start, end = window_dates(context)
    settings = config_files.settings()
    namespaces = dict(load_billing_config(config_files.path).namespaces)
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        session.execute(ALERT_TABLES_SQL)
        sources = present_sources(session)
        attribution, k8s_params = kubernetes_attribution(
            settings, namespaces, on_aws=AWS_ON_KUBERNETES in sources)
        markups, markup_params = cloud_markups(load_cost_models(config_files.path))
        params = {"start_date": start, "end_date": end, **k8s_params, **markup_params}
        relations = {**source_rows(sources, attribution), "cloud_markups": markups}
        with session.transaction():
            session.execute(SUMMARY_SQL, params, relations)
            blocking = audit(DAILY_TENANT_SUMMARY, rows_check(
                CHECK_RECONCILES, session.rows(RECONCILE_SQL, params, relations), "mismatches"))
            breaches = kubernetes_breaches(session, settings, params)
            new_alerts = record_alerts(session, CHECK_K8S_UNATTRIBUTED, breaches, [LOG_CHANNEL], context.log)
        metadata = partition_metadata(
            context, session, "metering.daily_tenant_summary", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, figures=FIGURES,
            order_by="cost_date, tenant_id NULLS FIRST, resource_type, module_id NULLS FIRST")
    metadata["sources_read"] = dg.MetadataValue.text(", ".join(source.resource_type for source in sources) or "none")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
            rows_check(CHECK_K8S_UNATTRIBUTED, breaches, "breaches", severity=dg.AssetCheckSeverity.WARN,
                       columns=["cost_date", "total_cost_usd", "unattributed_cost_usd", "unattributed_share",
                                "threshold"],
                       failure=f"{len(breaches)} day(s) with Kubernetes cost unattributed over the threshold",
                       success="Every day's unattributed Kubernetes cost is within its threshold",
                       metadata={"new_alert_ids": dg.MetadataValue.json(new_alerts)}),
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_RECONCILES, asset=DAILY_TENANT_SUMMARY, blocking=True,
                      description="ERROR unless, per day and source, the summary's rows (attributed + unattributed) "
                                  "add up to the source's total."),
    dg.AssetCheckSpec(CHECK_K8S_UNATTRIBUTED, asset=DAILY_TENANT_SUMMARY,
                      description="WARN when a day's Kubernetes cost left without a tenant (unmapped namespaces, "
                                  "undistributed unallocated cost) is strictly over the threshold in force "
                                  "(settings.yaml unattributed_threshold); each breach is recorded once in "
                                  "metering.alerts."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=DAILY_TENANT_SUMMARY,
                     deps=[AWS_COST_DAILY, SNOWFLAKE_CREDIT_DAILY, DATABRICKS_PRICED_USAGE, EXTERNAL_API_COSTS,
                           FOCUS_COST_DAILY, K8S_PROJECT_DAILY_COST],
                     group_name="attribution", kinds={"duckdb", "snowflake"}, partitions_def=project.daily,
                     owners=OWNERS, tags=asset_tags(source="all", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.daily_tenant_summary"),
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(daily_tenant_summary)
    return dg.Definitions(assets=[asset])
