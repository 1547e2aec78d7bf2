"""``metering/k8s_pod_usage``, ``k8s_storage_usage``, ``k8s_vm_usage``, ``k8s_network_usage``: Kubernetes usage
exports, landed per day."""

import dagster as dg

from costattr_pipeline.lib import kubernetes
from costattr_pipeline.lib.cost_model import NETWORK_METRIC, VM_METRIC, load_cost_models
from costattr_pipeline.lib.kubernetes import KubernetesTable
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.source_files import SourceFiles
from costattr_pipeline.resources.warehouse import Warehouse

K8S_POD_USAGE = dg.AssetKey(["metering", "k8s_pod_usage"])
K8S_STORAGE_USAGE = dg.AssetKey(["metering", "k8s_storage_usage"])
K8S_VM_USAGE = dg.AssetKey(["metering", "k8s_vm_usage"])
K8S_NETWORK_USAGE = dg.AssetKey(["metering", "k8s_network_usage"])
K8S_NODE_INFRASTRUCTURE_COST = dg.AssetKey(["metering", "k8s_node_infrastructure_cost"])
CHECK_POD_USAGE_PRESENT = "k8s_pod_usage_source_present"
CHECK_STORAGE_USAGE_PRESENT = "k8s_storage_usage_source_present"
CHECK_VM_USAGE_PRESENT = "k8s_vm_usage_source_present"
CHECK_NETWORK_USAGE_PRESENT = "k8s_network_usage_source_present"
CHECK_NODE_COST_NODES_KNOWN = "k8s_node_infrastructure_cost_nodes_have_usage"

TABLES_SQL = sql_file(__file__, "kubernetes_usage__tables.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"


def land_export(context: dg.AssetExecutionContext, warehouse: Warehouse, source_files: SourceFiles,
                table: KubernetesTable, figures: dict[str, str], order_by: str) -> tuple[bool, dict]:
    """Validate the export's rows of the run's days, then replace those days of its landing table in one
    transaction (nothing is written when a row is bad). Returns whether the file was there, and the metadata."""
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        with session.local_engine() as engine:
            select = kubernetes.stage_export(engine, source_files.path, table, f"staged_k8s_{table.name}", (start, end))
            with session.transaction():
                session.execute(f"DELETE FROM {table.landing_table} WHERE {USAGE_WINDOW}", params)
                if select is not None:
                    session.insert_from_local(engine, table.landing_table, select)
        metadata = partition_metadata(context, session, table.landing_table, USAGE_WINDOW, params,
                                      partition_column="usage_date", tables_sql=TABLES_SQL, figures=figures,
                                      order_by=order_by)
    metadata["source"] = dg.MetadataValue.text(f"{source_files.source_dir}/{kubernetes.FOLDER}/{table.name}")
    return select is not None, metadata


def _presence(check_name: str, found: bool, table: KubernetesTable, consequence: str,
              needed: bool = True) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check_name, passed=found or not needed, severity=dg.AssetCheckSeverity.WARN,
        description=None if found or not needed else f"No {kubernetes.FOLDER}/{table.name}.csv/.parquet: {consequence}",
        metadata={"found": dg.MetadataValue.bool(found)})


def k8s_pod_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                  source_files: SourceFiles) -> dg.MaterializeResult:
    """Kubernetes pod usage per day from `kubernetes/pod_usage` (CSV or Parquet): for every pod, its node and
    the node's role (worker, master, infra), namespace, labels (JSON), CPU and memory usage and requests
    (core-hours, GB-hours) and its node's capacity that day.

    Every row of the run's days is validated first (types, no negative usage or capacity, JSON labels, one
    row per pod and day, one role and capacity per node and day); the days are then replaced in one
    transaction. Usage is kept to 6 decimal places. The cost models price it in
    `metering/k8s_project_daily_cost`.
    """
    found, metadata = land_export(
        context, warehouse, source_files, kubernetes.POD_USAGE,
        {"cpu_core_usage_hours": "SUM(CAST(cpu_core_usage_hours AS DECIMAL(38, 6)))",
         "memory_gb_usage_hours": "SUM(CAST(memory_gb_usage_hours AS DECIMAL(38, 6)))",
         "clusters": "COUNT(DISTINCT cluster_id)"},
        "usage_date, cluster_id, node, namespace, pod")
    return dg.MaterializeResult(metadata=metadata, check_results=[_presence(
        CHECK_POD_USAGE_PRESENT, found, kubernetes.POD_USAGE, "no Kubernetes cost (only storage and VMs are priced)")])


def k8s_storage_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                      source_files: SourceFiles) -> dg.MaterializeResult:
    """Kubernetes storage per day from `kubernetes/storage_usage` (CSV or Parquet): each persistent volume
    claim with its namespace, storage class, volume labels (JSON), and GB-months used and requested that
    day. A row without namespace and pvc is storage no claim holds (unattributed storage).

    Every row of the run's days is validated first (types, no negative usage, JSON labels, one row per
    claim and day); the days are then replaced in one transaction.
    """
    found, metadata = land_export(
        context, warehouse, source_files, kubernetes.STORAGE_USAGE,
        {"storage_gb_usage_months": "SUM(CAST(storage_gb_usage_months AS DECIMAL(38, 6)))",
         "claims": "SUM(CASE WHEN pvc IS NULL THEN 0 ELSE 1 END)"},
        "usage_date, cluster_id, namespace NULLS FIRST, pvc NULLS FIRST, storage_class")
    return dg.MaterializeResult(metadata=metadata, check_results=[_presence(
        CHECK_STORAGE_USAGE_PRESENT, found, kubernetes.STORAGE_USAGE, "storage is not priced")])


def k8s_vm_usage(context: dg.AssetExecutionContext, warehouse: Warehouse, source_files: SourceFiles,
                 config_files: CostattrConfig) -> dg.MaterializeResult:
    """Virtual machines run on Kubernetes (OpenShift Virtualization) per day from the optional
    `kubernetes/vm_usage` (CSV or Parquet): each machine's node, namespace and labels (JSON). A cost model's
    `vm_cost_per_month` prices each machine-day at rate / days in the month.
    """
    found, metadata = land_export(context, warehouse, source_files, kubernetes.VM_USAGE, {},
                                  "usage_date, cluster_id, namespace, vm_name")
    needed = bool(load_cost_models(config_files.path).uses_metric(VM_METRIC))
    return dg.MaterializeResult(metadata=metadata, check_results=[_presence(
        CHECK_VM_USAGE_PRESENT, found, kubernetes.VM_USAGE, "a cost model prices vm_cost_per_month", needed)])


def k8s_network_usage(context: dg.AssetExecutionContext, warehouse: Warehouse, source_files: SourceFiles,
                      config_files: CostattrConfig) -> dg.MaterializeResult:
    """Network traffic per node, namespace and day from the optional `kubernetes/network_usage` (CSV or
    Parquet): GB received and sent. An empty namespace is traffic no pod claims (`Network unattributed`).
    A cost model's `network_cost_per_gb` prices the GB in + out; distribution moves the unattributed part to
    the user namespaces.
    """
    found, metadata = land_export(
        context, warehouse, source_files, kubernetes.NETWORK_USAGE,
        {"data_transfer_gb": "SUM(CAST(data_transfer_in_gb + data_transfer_out_gb AS DECIMAL(38, 6)))"},
        "usage_date, cluster_id, node, namespace NULLS FIRST")
    needed = bool(load_cost_models(config_files.path).uses_metric(NETWORK_METRIC))
    return dg.MaterializeResult(metadata=metadata, check_results=[_presence(
        CHECK_NETWORK_USAGE_PRESENT, found, kubernetes.NETWORK_USAGE, "a cost model prices network_cost_per_gb",
        needed)])


def k8s_node_infrastructure_cost(context: dg.AssetExecutionContext, warehouse: Warehouse,
                                 source_files: SourceFiles) -> dg.MaterializeResult:
    """The cloud's daily cost of each node of clusters running on a cloud (OCP on AWS, Azure, GCP), from the
    optional `kubernetes/node_infrastructure_cost` (CSV or Parquet): usage_date, cluster_id, node, resource_id,
    cost_usd. It becomes the cluster's Infrastructure raw cost (`infrastructure_raw_cost`), spread over the
    namespaces by effective usage over the node's capacity, the rest to Worker or Platform unallocated.
    """
    found, metadata = land_export(context, warehouse, source_files, kubernetes.NODE_INFRASTRUCTURE_COST,
                                  {"cost_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 9)))"},
                                  "usage_date, cluster_id, node")
    start, end = window_dates(context)
    with warehouse.session() as session:
        unknown = session.rows(f"""
            SELECT c.usage_date, c.cluster_id, c.node, c.cost_usd
            FROM metering.k8s_node_infrastructure_cost AS c
            WHERE c.usage_date >= :start_date AND c.usage_date < :end_date
              AND NOT EXISTS (SELECT 1 FROM metering.k8s_pod_usage AS p WHERE p.usage_date = c.usage_date
                              AND p.cluster_id = c.cluster_id AND p.node = c.node)
            ORDER BY 1, 2, 3 LIMIT 20""", {"start_date": start, "end_date": end}) if found else []
    return dg.MaterializeResult(metadata=metadata, check_results=[rows_check(
        CHECK_NODE_COST_NODES_KNOWN, unknown, "nodes_without_pods", severity=dg.AssetCheckSeverity.WARN,
        failure=f"{len(unknown)} node-day(s) have a cloud cost but no pod: their whole cost is Worker unallocated",
        success="Every node with a cloud cost ran pods that day")])


CHECKS = {
    K8S_POD_USAGE: [dg.AssetCheckSpec(CHECK_POD_USAGE_PRESENT, asset=K8S_POD_USAGE,
                                      description="WARN when there is no kubernetes/pod_usage file: no pod is "
                                                  "priced.")],
    K8S_STORAGE_USAGE: [dg.AssetCheckSpec(CHECK_STORAGE_USAGE_PRESENT, asset=K8S_STORAGE_USAGE,
                                          description="WARN when there is no kubernetes/storage_usage file: no "
                                                      "storage is priced.")],
    K8S_VM_USAGE: [dg.AssetCheckSpec(CHECK_VM_USAGE_PRESENT, asset=K8S_VM_USAGE,
                                     description="WARN when a cost model prices vm_cost_per_month and there is no "
                                                 "kubernetes/vm_usage file (the file is optional otherwise).")],
    K8S_NETWORK_USAGE: [dg.AssetCheckSpec(CHECK_NETWORK_USAGE_PRESENT, asset=K8S_NETWORK_USAGE,
                                          description="WARN when a cost model prices network_cost_per_gb and there "
                                                      "is no kubernetes/network_usage file (optional otherwise).")],
    K8S_NODE_INFRASTRUCTURE_COST: [dg.AssetCheckSpec(
        CHECK_NODE_COST_NODES_KNOWN, asset=K8S_NODE_INFRASTRUCTURE_COST,
        description="WARN when a node has a cloud cost but no pod that day (kubernetes/pod_usage): its cost goes "
                    "to Worker unallocated.")],
}


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    # The node costs are checked against the pods of the same days: landed after them.
    deps = {K8S_NODE_INFRASTRUCTURE_COST: [K8S_POD_USAGE]}
    assets = [
        dg.asset(key=key, deps=deps.get(key), group_name="ingest", kinds={"kubernetes", "duckdb", "snowflake"},
                 owners=OWNERS, tags=asset_tags(source="kubernetes", layer="landing"),
                 metadata=table_metadata(TABLES_SQL, ".".join(key.path)),
                 partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                 check_specs=CHECKS[key])(function)
        for key, function in ((K8S_POD_USAGE, k8s_pod_usage), (K8S_STORAGE_USAGE, k8s_storage_usage),
                              (K8S_VM_USAGE, k8s_vm_usage), (K8S_NETWORK_USAGE, k8s_network_usage),
                              (K8S_NODE_INFRASTRUCTURE_COST, k8s_node_infrastructure_cost))]
    return dg.Definitions(assets=assets)
