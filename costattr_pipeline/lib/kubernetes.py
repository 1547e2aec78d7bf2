"""Kubernetes cluster usage exports (contract 2.5): ``kubernetes/pod_usage``, ``storage_usage``, ``vm_usage``,
``network_usage``.

Koku-style (OpenShift) usage per day: pods with their requests, usage and node capacity, persistent
volume claims, virtual machines. Each is an optional CSV or Parquet table, validated by the one
source reader (:mod:`costattr_pipeline.lib.source_files`): types, required values, non-negative
usage and capacity, JSON labels, one row per key. Usage is kept to 6 decimal places (a micro
core-hour), so every usage x rate product is exact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, Rule, UniqueKey, find_table_file, stage_table_file

FOLDER = "kubernetes"
NODE_ROLES = ("worker", "master", "infra")
USAGE = "DECIMAL(38, 6)"


@dataclass(frozen=True)
class KubernetesTable:
    """One export of the kubernetes folder: its columns, row rules and key."""

    name: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...]
    unique_key: UniqueKey

    @property
    def landing_table(self) -> str:
        return f"metering.k8s_{self.name}"


def _json_labels(column: str) -> Rule:
    return Rule(f"{column} IS NOT NULL AND trim({column}) <> '' AND (NOT json_valid({column}) "
                f"OR json_type({column}) <> 'OBJECT')",
                f"column '{column}' must be a JSON object of labels, e.g. {{{{\"env\": \"prod\"}}}}, got {{{column}!r}}")


def _not_negative(*columns: str) -> tuple[Rule, ...]:
    return tuple(Rule(f"{column} < 0", f"column '{column}' must not be negative, got {{{column}}}") for column in columns)


POD_USAGE = KubernetesTable(
    name="pod_usage",
    columns=(
        Column("usage_date", "DATE", nullable=False),
        Column("cluster_id", nullable=False),
        Column("node", nullable=False),
        Column("node_role", nullable=False),
        Column("namespace", nullable=False),
        Column("pod", nullable=False),
        Column("pod_labels"),
        Column("cpu_core_usage_hours", USAGE, nullable=False),
        Column("cpu_core_request_hours", USAGE, nullable=False),
        Column("memory_gb_usage_hours", USAGE, nullable=False),
        Column("memory_gb_request_hours", USAGE, nullable=False),
        Column("node_capacity_cpu_core_hours", USAGE, nullable=False),
        Column("node_capacity_memory_gb_hours", USAGE, nullable=False),
    ),
    rules=(
        Rule(f"lower(trim(node_role)) NOT IN {NODE_ROLES}",
             "column 'node_role': {node_role!r} is not one of " + ", ".join(NODE_ROLES)),
        _json_labels("pod_labels"),
        *_not_negative("cpu_core_usage_hours", "cpu_core_request_hours", "memory_gb_usage_hours",
                       "memory_gb_request_hours", "node_capacity_cpu_core_hours", "node_capacity_memory_gb_hours"),
    ),
    unique_key=UniqueKey(("usage_date", "cluster_id", "node", "namespace", "pod"),
                         "pod {pod!r} of namespace {namespace!r} on node {node!r} of cluster {cluster_id!r} appears "
                         "twice on {usage_date}: one row per pod and day"),
)
STORAGE_USAGE = KubernetesTable(
    name="storage_usage",
    columns=(
        Column("usage_date", "DATE", nullable=False),
        Column("cluster_id", nullable=False),
        Column("namespace"),     # empty (with pvc): storage no claim holds, unattributed
        Column("pvc"),
        Column("storage_class"),
        Column("volume_labels"),
        Column("storage_gb_usage_months", USAGE, nullable=False),
        Column("storage_gb_request_months", USAGE, nullable=False),
    ),
    rules=(
        _json_labels("volume_labels"),
        Rule("(NULLIF(trim(namespace), '') IS NULL) <> (NULLIF(trim(pvc), '') IS NULL)",
             "namespace {namespace!r} and pvc {pvc!r}: give both (a claimed volume) or neither (unattributed storage)"),
        *_not_negative("storage_gb_usage_months", "storage_gb_request_months"),
    ),
    unique_key=UniqueKey(("usage_date", "cluster_id", "namespace", "pvc", "storage_class"),
                         "pvc {pvc!r} of namespace {namespace!r} in cluster {cluster_id!r} appears twice on "
                         "{usage_date}: one row per claim (or per storage class of unattributed storage) and day"),
)
VM_USAGE = KubernetesTable(
    name="vm_usage",
    columns=(
        Column("usage_date", "DATE", nullable=False),
        Column("cluster_id", nullable=False),
        Column("node", nullable=False),
        Column("namespace", nullable=False),
        Column("vm_name", nullable=False),
        Column("vm_labels"),
    ),
    rules=(_json_labels("vm_labels"),),
    unique_key=UniqueKey(("usage_date", "cluster_id", "namespace", "vm_name"),
                         "virtual machine {vm_name!r} of namespace {namespace!r} in cluster {cluster_id!r} appears "
                         "twice on {usage_date}: one row per machine and day"),
)
NETWORK_USAGE = KubernetesTable(
    name="network_usage",
    columns=(
        Column("usage_date", "DATE", nullable=False),
        Column("cluster_id", nullable=False),
        Column("node", nullable=False),
        Column("namespace"),     # empty: traffic no pod claims, unattributed network
        Column("data_transfer_in_gb", USAGE, nullable=False),
        Column("data_transfer_out_gb", USAGE, nullable=False),
    ),
    rules=_not_negative("data_transfer_in_gb", "data_transfer_out_gb"),
    unique_key=UniqueKey(("usage_date", "cluster_id", "node", "namespace"),
                         "namespace {namespace!r} on node {node!r} of cluster {cluster_id!r} appears twice on "
                         "{usage_date}: one row per node, namespace and day"),
)
NODE_INFRASTRUCTURE_COST = KubernetesTable(
    name="node_infrastructure_cost",
    columns=(
        Column("usage_date", "DATE", nullable=False),
        Column("cluster_id", nullable=False),
        Column("node", nullable=False),
        Column("resource_id"),   # the cloud's id of the machine (e.g. an EC2 instance id)
        Column("cost_usd", "DECIMAL(38, 9)", nullable=False),
    ),
    rules=_not_negative("cost_usd"),
    unique_key=UniqueKey(("usage_date", "cluster_id", "node"),
                         "node {node!r} of cluster {cluster_id!r} has two costs on {usage_date}: one row per node "
                         "and day"),
)
TABLES = (POD_USAGE, STORAGE_USAGE, VM_USAGE, NETWORK_USAGE, NODE_INFRASTRUCTURE_COST)


def export_path(source_dir: Path | str, table: KubernetesTable) -> Path | None:
    """``<source>/kubernetes/<name>.csv|.parquet``, or None when absent."""
    return find_table_file(Path(source_dir) / FOLDER, table.name)


def stage_export(engine: duckdb.DuckDBPyConnection, source_dir: Path | str, table: KubernetesTable, into: str,
                 window: tuple[dt.date, dt.date] | None = None) -> str | None:
    """Validate the export's rows of ``window`` (all when None) in ``engine``; return a SELECT of them in the
    landing shape (texts trimmed, empty texts NULL, node roles lower case), or None when the file is absent."""
    path = export_path(source_dir, table)
    if path is None:
        return None
    stage_table_file(engine, path, table.columns, into, f"{FOLDER}/{path.name}",
                     window=None if window is None else ("usage_date", *window), rules=table.rules,
                     unique_key=table.unique_key)
    if table is POD_USAGE:
        _one_capacity_per_node(engine, into, f"{FOLDER}/{path.name}")
    projection = []
    for column in table.columns:
        if column.name == "node_role":
            projection.append("lower(trim(node_role)) AS node_role")
        elif column.type == "VARCHAR":
            projection.append(f"NULLIF(trim({column.name}), '') AS {column.name}")
        else:
            projection.append(column.name)
    return f"SELECT {', '.join(projection)} FROM {into}"


def _one_capacity_per_node(engine: duckdb.DuckDBPyConnection, staged: str, name: str) -> None:
    """Every row of a node and day must give the same role and capacity: the node's cost is spread over it."""
    found = engine.execute(f"""
        SELECT MIN(source_row), usage_date, cluster_id, node FROM {staged}
        GROUP BY usage_date, cluster_id, node
        HAVING COUNT(DISTINCT lower(trim(node_role))) > 1 OR COUNT(DISTINCT node_capacity_cpu_core_hours) > 1
            OR COUNT(DISTINCT node_capacity_memory_gb_hours) > 1
        ORDER BY 1 LIMIT 1""").fetchall()
    if found:
        row, day, cluster, node = found[0]
        unit, offset = ("row", 0) if name.lower().endswith(".parquet") else ("line", 1)
        raise SourceError(name, f"{unit} {row + offset}", f"node {node!r} of cluster {cluster!r} has rows with "
                                                          f"different node_role or capacity on {day}: one role and "
                                                          "capacity per node and day")


def validate_exports(source_dir: Path | str, window: tuple[dt.date, dt.date] | None = None) -> None:
    """Validate every Kubernetes export present (``costattr validate``); raise the first problem."""
    engine = duckdb.connect()
    try:
        for table in TABLES:
            stage_export(engine, source_dir, table, f"k8s_{table.name}", window)
    finally:
        engine.close()
