"""``metering/k8s_project_daily_cost``: Kubernetes usage priced by Koku-style cost models, per day and namespace."""

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.ingest.kubernetes.kubernetes_usage import (K8S_NETWORK_USAGE,
                                                                      K8S_NODE_INFRASTRUCTURE_COST, K8S_POD_USAGE,
                                                                      K8S_STORAGE_USAGE, K8S_VM_USAGE)
from costattr_pipeline.lib import arrow_tables, kubernetes
from costattr_pipeline.lib.billing_config import months, next_month
from costattr_pipeline.lib.cost_model import (VOLUME_LABEL_METRICS, VM_METRIC, CostModels, check_sources_present,
                                              load_cost_models)
from costattr_pipeline.lib.databricks import tag_path
from costattr_pipeline.lib.errors import CostattrInputError
from costattr_pipeline.lib.money import largest_remainder_relation
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.defs.cost_models import OWNERS
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import (DayRange, Project, current_project, range_request, range_schedule,
                                       window_dates)
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.source_files import SourceFiles
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

K8S_PROJECT_DAILY_COST = dg.AssetKey(["metering", "k8s_project_daily_cost"])
CHECK_COST_RECONCILES = "k8s_cost_reconciles_with_rates"
CHECK_NO_NEGATIVE_COST = "k8s_cost_not_negative"
CHECK_MODEL_OF_CLUSTER = "k8s_rows_carry_their_cluster_model"
CHECK_CLUSTERS_PRICED = "k8s_clusters_have_cost_model"
CHECK_DISTRIBUTION_ZERO_SUM = "k8s_distribution_sums_to_zero"
COST_MODEL_SENSOR = "cost_model_changes"

TABLES_SQL = sql_file(__file__, "k8s_project_daily_cost__tables.sql")
COST_PARTS_SQL = sql_file(__file__, "k8s_cost_parts.sql")
DAILY_COST_SQL = sql_file(__file__, "k8s_project_daily_cost.sql")
RECONCILE_SQL = sql_file(__file__, "k8s_project_daily_cost__reconcile.sql")
DAY_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"
STORAGE_CLASS_KEYS = ("storageclass", "storage_class")
def label_relations(models: CostModels) -> tuple[dict[str, str], dict[str, object]]:
    """The relations pod_tag_values, storage_tag_values, vm_tag_values (one row per usage row and label key a
    tag rate of the current models reads) and their parameters, built for the keys the models use."""
    keys: dict[str, set[str]] = {"pod": set(), "storage": set(), "vm": set()}
    for model in models.ocp:
        for rate in model.rates:
            if rate.tag_rates is not None:
                kind = ("storage" if rate.metric.name in VOLUME_LABEL_METRICS
                        else "vm" if rate.metric.name == VM_METRIC else "pod")
                keys[kind].add(rate.tag_rates.tag_key)
    shapes = {
        "pod": ("metering.k8s_pod_usage", "pod_labels",
                "usage_date, cluster_id, node, namespace, pod",
                "CAST(NULL AS DATE) AS usage_date, CAST(NULL AS VARCHAR) AS cluster_id, CAST(NULL AS VARCHAR) AS node, "
                "CAST(NULL AS VARCHAR) AS namespace, CAST(NULL AS VARCHAR) AS pod"),
        "storage": ("metering.k8s_storage_usage", "volume_labels",
                    "usage_date, cluster_id, COALESCE(namespace, '') AS namespace_key, COALESCE(pvc, '') AS pvc_key, "
                    "COALESCE(storage_class, '') AS storage_class_key",
                    "CAST(NULL AS DATE) AS usage_date, CAST(NULL AS VARCHAR) AS cluster_id, CAST(NULL AS VARCHAR) AS "
                    "namespace_key, CAST(NULL AS VARCHAR) AS pvc_key, CAST(NULL AS VARCHAR) AS storage_class_key"),
        "vm": ("metering.k8s_vm_usage", "vm_labels", "usage_date, cluster_id, namespace, vm_name",
               "CAST(NULL AS DATE) AS usage_date, CAST(NULL AS VARCHAR) AS cluster_id, "
               "CAST(NULL AS VARCHAR) AS namespace, CAST(NULL AS VARCHAR) AS vm_name"),
    }
    relations: dict[str, str] = {}
    params: dict[str, object] = {}
    for kind, (table, labels, columns, empty) in shapes.items():
        parts = []
        for index, key in enumerate(sorted(keys[kind])):
            params[f"{kind}_tag_key_{index}"] = key
            params[f"{kind}_tag_path_{index}"] = tag_path(key)
            value = f"JSON_EXTRACT_STRING({labels}, :{kind}_tag_path_{index})"
            if kind == "storage" and key.lower() in STORAGE_CLASS_KEYS:  # the storage class is a volume label too
                value = f"COALESCE({value}, storage_class)"
            parts.append(f"SELECT {columns}, :{kind}_tag_key_{index} AS tag_key, {value} AS tag_value FROM {table} "
                         f"WHERE {DAY_WINDOW} AND {value} IS NOT NULL")
        relations[f"{kind}_tag_values"] = (" UNION ALL ".join(parts) if parts else
                                           f"SELECT {empty}, CAST(NULL AS VARCHAR) AS tag_key, "
                                           f"CAST(NULL AS VARCHAR) AS tag_value FROM {table} WHERE 1 = 0")
    return relations, params


def cost_relations(models: CostModels) -> tuple[dict[str, str], dict[str, object]]:
    """Every relation and parameter the cost SQL reads beyond the window: labels and the splits."""
    relations, params = label_relations(models)
    relations["split_parts"] = largest_remainder_relation("k8s_split_input")
    relations["distribution_nano_split"] = largest_remainder_relation("distribution_nano_input")
    relations["distribution_fine_split"] = largest_remainder_relation("distribution_fine_input")
    return relations, params


# On DuckDB the window's priced parts (k8s_cost_parts.sql) are priced once per run into this work table: the cost
# rows are added up from it and the reconcile check compares the written rows with it. When the check priced them
# again, that took 41.5 s of the asset's 123 s on the scale-1 year. A persistent table, not a temporary one: DuckDB
# keeps a temporary table's blocks in memory, and the year's parts did not fit the 3 GB limit. DuckDB has one
# writer, so no other run shares it; it is dropped when the asset ends. On Snowflake each statement prices the
# parts itself: a work table there would be shared by concurrent runs, and a temporary one needs a current schema
# the deployment does not set. The bench's bare baseline prices them in its one statement, as before.
PARTS_TABLE = "metering.k8s_cost_parts_work"


@contextlib.contextmanager
def parts_work_table(session: WarehouseSession, models: CostModels) -> Iterator[str | None]:
    """The priced parts' work table for the block, empty with the parts' columns; None on Snowflake (see
    ``PARTS_TABLE``). DDL, so around the run's transaction, never inside it."""
    if session.dialect != "duckdb":
        yield None
        return
    relations, params = cost_relations(models)
    nothing = {"start_date": dt.date(1970, 1, 1), "end_date": dt.date(1970, 1, 1)}
    session.execute(f"CREATE OR REPLACE TABLE {PARTS_TABLE} AS SELECT * FROM ({COST_PARTS_SQL}) AS parts "
                    "WHERE 1 = 0", {**nothing, **params}, relations)
    try:
        yield PARTS_TABLE
    finally:
        session.execute(f"DROP TABLE IF EXISTS {PARTS_TABLE}")


def record_cost_models(session: WarehouseSession, models: CostModels, seen_at: dt.datetime) -> list[str]:
    """Append every model version not seen before to ``config.cost_model_history`` and its rates to
    ``config.cost_model_rates``; replace ``config.cost_model_current``. Returns the new hashes.
    Call inside the run's transaction."""
    known = {row["cost_model_hash"] for row in session.rows("SELECT DISTINCT cost_model_hash FROM "
                                                            "config.cost_model_history")}
    new = []
    history, rates, current = [], [], []
    for model in models.models:
        model_hash = model.content_hash
        clusters = list(model.source_uuids) if model.source_type == "OCP" and model.source_uuids else [None]
        info = model.distribution_info
        current += [{"cost_model_hash": model_hash, "source_type": model.source_type, "cluster_id": cluster,
                     "markup_fraction": model.markup.fraction, "distribution": model.distribution,
                     "platform_cost": info.platform_cost, "worker_cost": info.worker_cost,
                     "storage_unattributed": info.storage_unattributed,
                     "network_unattributed": info.network_unattributed}
                    for cluster in clusters]
        if model_hash in known or model_hash in new:
            continue
        new.append(model_hash)
        history.append({"cost_model_hash": model_hash, "name": model.name, "source_type": model.source_type,
                        "source_uuids": json.dumps(list(model.source_uuids)), "markup_percent": model.markup.value,
                        "distribution": model.distribution, "model_json": model.model_json(),
                        "first_seen_at": seen_at})
        for index, rate in enumerate(model.rates):
            base = {"cost_model_hash": model_hash, "rate_index": index, "metric": rate.metric.name,
                    "cost_type": rate.cost_type}
            rates += [{**base, "tag_key": None, "tag_value": None, "is_default": False, "usage_start": tier.usage_start,
                       "usage_end": tier.usage_end, "rate": tier.value} for tier in rate.tiers()]
            if rate.tag_rates is not None:
                rates += [{**base, "tag_key": rate.tag_rates.tag_key, "tag_value": value.tag_value,
                           "is_default": value.default, "usage_start": None, "usage_end": None, "rate": value.value}
                          for value in rate.tag_rates.tag_values]
    decimal9 = pa.decimal128(38, 9)
    if history:
        session.insert_arrow("config.cost_model_history", arrow_tables.from_rows(history, pa.schema([
            ("cost_model_hash", pa.string()), ("name", pa.string()), ("source_type", pa.string()),
            ("source_uuids", pa.string()), ("markup_percent", pa.decimal128(18, 4)), ("distribution", pa.string()),
            ("model_json", pa.string()), ("first_seen_at", pa.timestamp("us"))])))
    if rates:
        session.insert_arrow("config.cost_model_rates", arrow_tables.from_rows(rates, pa.schema([
            ("cost_model_hash", pa.string()), ("rate_index", pa.int32()), ("metric", pa.string()),
            ("cost_type", pa.string()), ("tag_key", pa.string()), ("tag_value", pa.string()),
            ("is_default", pa.bool_()), ("usage_start", decimal9), ("usage_end", decimal9), ("rate", decimal9)])))
    session.execute("DELETE FROM config.cost_model_current")
    if current:
        session.insert_arrow("config.cost_model_current", arrow_tables.from_rows(current, pa.schema([
            ("cost_model_hash", pa.string()), ("source_type", pa.string()), ("cluster_id", pa.string()),
            ("markup_fraction", pa.decimal128(18, 6)), ("distribution", pa.string()), ("platform_cost", pa.bool_()),
            ("worker_cost", pa.bool_()), ("storage_unattributed", pa.bool_()),
            ("network_unattributed", pa.bool_())])))
    return new


def price_window(session: WarehouseSession, models: CostModels, start: dt.date, end: dt.date,
                 seen_at: dt.datetime, parts: str | None = None) -> list[str]:
    """Record the models, price the days ``[start, end)`` and replace their cost rows (inside a transaction).
    With ``parts``, the work table of :func:`parts_work_table`, the parts are priced into it and the rows added
    up from it a few calendar months at a time (:func:`month_pieces`), and it holds the whole window's parts at
    the end; without, one statement prices them itself."""
    new = record_cost_models(session, models, seen_at)
    relations, params = cost_relations(models)
    if parts is None:
        session.execute(DAILY_COST_SQL, {"start_date": start, "end_date": end, **params},
                        {**relations, "k8s_cost_parts": COST_PARTS_SQL})
        return new
    session.execute(f"DELETE FROM {parts}")
    for month_start, month_end in month_pieces(start, end, usage_rows_by_month(session, start, end)):
        piece = {"start_date": month_start, "end_date": month_end, **params}
        session.execute(f"INSERT INTO {parts} SELECT * FROM ({COST_PARTS_SQL}) AS parts", piece, relations)
        session.execute(DAILY_COST_SQL, piece, {**relations, "k8s_cost_parts": f"SELECT * FROM {parts} WHERE "
                                                                               f"{DAY_WINDOW}"})
    return new


# The usage rows one piece of the window prices at most, unless a single month has more. DuckDB's joins and
# aggregations hold about 1 KB per usage row: 2.4 GiB for the 2.75 M rows of a scale-1 year, close to the 3 GB
# limit (docs/benchmarks.md); a piece of this many rows holds about 0.25 GiB, as one month of that year does.
PIECE_USAGE_ROWS = 250_000

USAGE_ROWS_BY_MONTH_SQL = " UNION ALL ".join(
    f"SELECT CAST(DATE_TRUNC('month', usage_date) AS DATE) AS month, COUNT(*) AS usage_rows FROM {table} "
    f"WHERE {DAY_WINDOW} GROUP BY ALL"
    for table in ("metering.k8s_pod_usage", "metering.k8s_storage_usage", "metering.k8s_vm_usage",
                  "metering.k8s_network_usage"))


def usage_rows_by_month(session: WarehouseSession, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """The usage rows (pods, claims, VMs, traffic) of the window per calendar month: what a piece prices."""
    rows: dict[dt.date, int] = {}
    for row in session.rows(USAGE_ROWS_BY_MONTH_SQL, {"start_date": start, "end_date": end}):
        rows[row["month"]] = rows.get(row["month"], 0) + int(row["usage_rows"])
    return rows


def month_pieces(start: dt.date, end: dt.date, usage_rows: Mapping[dt.date, int] | None = None,
                 budget: int = PIECE_USAGE_ROWS) -> list[tuple[dt.date, dt.date]]:
    """The day window ``[start, end)`` in pieces cut at the first of a month, in order: consecutive months
    together while their ``usage_rows`` (per month's first day; none: one piece a month) add up to at most
    ``budget``, a month with more alone.

    Every priced part and every cost row belongs to one day (amortized rates divide by the days of that
    day's month; spreads and distribution are per cluster-day), so a window priced a piece at a time gives
    the same rows as priced at once. Pieces bound the memory (see ``PIECE_USAGE_ROWS``); a window of few
    rows is one piece, since each piece costs two statements of the 400-line pricing SQL (0.2 s even when
    they price nothing: 2.2 s of a year's 3.1 s on 10 tenants, as months)."""
    pieces: list[tuple[dt.date, dt.date]] = []
    held = 0
    for month in months(start, end):
        piece = (max(start, month), min(end, next_month(month)))
        rows = usage_rows.get(month, 0) if usage_rows is not None else budget + 1
        if pieces and held + rows <= budget:
            pieces[-1] = (pieces[-1][0], piece[1])
            held += rows
        else:
            pieces.append(piece)
            held = rows
    return pieces


def cost_mismatches(session: WarehouseSession, models: CostModels, start: dt.date, end: dt.date,
                    parts: str | None = None) -> list[dict[str, Any]]:
    """Days, clusters and cost types whose rows do not add up to the priced parts (empty: all good); ``parts``
    as in :func:`price_window`, the same."""
    relations, params = cost_relations(models)
    return session.rows(RECONCILE_SQL, {"start_date": start, "end_date": end, **params},
                        {**relations, "k8s_cost_parts": parts or COST_PARTS_SQL})


def negative_costs(session: WarehouseSession, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    return session.rows(f"""
        SELECT usage_date, cluster_id, node, namespace, cost_type, raw_cost, markup_cost, total_cost
        FROM metering.k8s_project_daily_cost
        WHERE {DAY_WINDOW} AND (cost_model_cpu_cost < 0 OR cost_model_memory_cost < 0 OR cost_model_volume_cost < 0
                                OR cost_model_network_cost < 0 OR infrastructure_raw_cost < 0 OR raw_cost < 0
                                OR total_cost < 0)
        ORDER BY usage_date, cluster_id, node, namespace, cost_type LIMIT 20""",
                        {"start_date": start, "end_date": end})


def distribution_breaks(session: WarehouseSession, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Cluster-days whose distributed costs do not add up to 0 per cost type, whose total changed with
    distribution, or where a row gave away more than its cost (empty: all good)."""
    return session.rows(f"""
        SELECT usage_date, cluster_id, cost_type,
               SUM(CAST(distributed_cost AS DECIMAL(38, 15))) AS distributed,
               SUM(CAST(total_cost AS DECIMAL(38, 15))) AS total,
               SUM(CAST(raw_cost + markup_cost AS DECIMAL(38, 15))) AS before_distribution,
               SUM(CASE WHEN distributed_cost < 0 AND total_cost <> 0 THEN 1 ELSE 0 END) AS partly_given_rows
        FROM metering.k8s_project_daily_cost
        WHERE {DAY_WINDOW}
        GROUP BY usage_date, cluster_id, cost_type
        HAVING SUM(CAST(distributed_cost AS DECIMAL(38, 15))) <> 0
            OR SUM(CAST(total_cost AS DECIMAL(38, 15))) <> SUM(CAST(raw_cost + markup_cost AS DECIMAL(38, 15)))
            OR SUM(CASE WHEN distributed_cost < 0 AND total_cost <> 0 THEN 1 ELSE 0 END) > 0
        ORDER BY usage_date, cluster_id, cost_type LIMIT 20""", {"start_date": start, "end_date": end})


def rows_without_their_model(session: WarehouseSession, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Rows whose cost_model_hash is not the model their cluster has (the one naming it, else the catch-all)."""
    return session.rows(f"""
        WITH ocp AS (SELECT * FROM config.cost_model_current WHERE source_type = 'OCP'),
        cluster_model AS (
            SELECT c.cluster_id, COALESCE(named.cost_model_hash, every_cluster.cost_model_hash) AS cost_model_hash
            FROM (SELECT DISTINCT cluster_id FROM metering.k8s_project_daily_cost WHERE {DAY_WINDOW}) AS c
            LEFT JOIN ocp AS named ON named.cluster_id = c.cluster_id
            LEFT JOIN ocp AS every_cluster ON every_cluster.cluster_id IS NULL
        )
        SELECT r.usage_date, r.cluster_id, r.namespace, r.cost_model_hash, m.cost_model_hash AS cluster_model_hash
        FROM metering.k8s_project_daily_cost AS r
        LEFT JOIN cluster_model AS m ON m.cluster_id = r.cluster_id
        WHERE r.usage_date >= :start_date AND r.usage_date < :end_date
          AND (m.cost_model_hash IS NULL OR r.cost_model_hash <> m.cost_model_hash
               OR r.cost_model_hash NOT IN (SELECT cost_model_hash FROM config.cost_model_history))
        ORDER BY r.usage_date, r.cluster_id, r.namespace LIMIT 20""", {"start_date": start, "end_date": end})


def clusters_without_model(session: WarehouseSession, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Clusters with usage in the window but no cost model: their usage has no cost."""
    return session.rows(f"""
        WITH used AS (
            SELECT cluster_id, usage_date FROM metering.k8s_pod_usage WHERE {DAY_WINDOW}
            UNION SELECT cluster_id, usage_date FROM metering.k8s_storage_usage WHERE {DAY_WINDOW}
        )
        SELECT cluster_id, MIN(usage_date) AS first_day, COUNT(DISTINCT usage_date) AS days
        FROM used
        WHERE NOT EXISTS (SELECT 1 FROM config.cost_model_current AS m
                          WHERE m.source_type = 'OCP' AND (m.cluster_id IS NULL OR m.cluster_id = used.cluster_id))
        GROUP BY cluster_id ORDER BY cluster_id LIMIT 20""", {"start_date": start, "end_date": end})


def k8s_project_daily_cost(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                           source_files: SourceFiles) -> dg.MaterializeResult:
    """Kubernetes cost per UTC day, cluster, node, namespace and cost type, priced by the cluster's cost model
    (`cost_model.yaml`, Koku's shape; the model naming the cluster in `source_uuids`, else the one naming none).

    Usage rates multiply each pod's (claim's) usage, request or effective usage (max of the two) by the rate;
    node and cluster costs (per month, per core) are amortized per day (rate / days in the month) and spread
    over the namespaces by effective usage over capacity (cpu or memory, as the model's `distribution`), the
    capacity no pod uses going to `Worker unallocated` (worker nodes) or `Platform unallocated` (master and
    infra nodes); a PVC costs its monthly rate / days per day, a VM likewise; network traffic costs its GB
    in + out x `network_cost_per_gb` (traffic no pod claims: `Network unattributed`). On a cloud, each node's
    cost (`kubernetes/node_infrastructure_cost`) is Infrastructure `infrastructure_raw_cost`, spread the same
    way as a node's monthly cost. Tag rates price by label value
    (unknown value: the `default: true` rate; no such label: the tiered rate). Infrastructure and
    Supplementary stay apart; markup is its own column. Amounts are exact (15 decimals); every amortized
    or spread amount is split with the largest-remainder rule so its parts add up to it exactly.
    `cost_model_hash` names the model version (`config.cost_model_history`).

    Distribution (per the model's `distribution_info`) then moves the cost of platform namespaces
    (`openshift-*`, `kube-*`, master and infra nodes, `Platform unallocated`), of `Worker unallocated` and
    of `Storage unattributed` and `Network unattributed` to the user namespaces by effective usage, per cluster, day and cost type:
    `distributed_cost` is + on the receivers and the matching - on the sources, adding up to 0.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    models = load_cost_models(config_files.path)
    present = {table.name for table in kubernetes.TABLES if kubernetes.export_path(source_files.path, table)}
    check_sources_present(models, present)
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        with parts_work_table(session, models) as parts, session.transaction():
            new = price_window(session, models, start, end, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                               parts)
            blocking = audit(
                K8S_PROJECT_DAILY_COST,
                rows_check(CHECK_COST_RECONCILES, cost_mismatches(session, models, start, end, parts), "mismatches",
                           success="Per day, cluster and cost type the rows add up to the priced rates"),
                rows_check(CHECK_NO_NEGATIVE_COST, negative_costs(session, start, end), "negative_rows",
                           success="No negative cost"),
                rows_check(CHECK_MODEL_OF_CLUSTER, rows_without_their_model(session, start, end), "rows",
                           success="Every row carries its cluster's cost model"),
                rows_check(CHECK_DISTRIBUTION_ZERO_SUM, distribution_breaks(session, start, end), "breaks",
                           success="Per cluster, day and cost type the distributed costs add up to 0 and the "
                                   "total is unchanged"))
        unpriced = clusters_without_model(session, start, end)
        metadata = partition_metadata(
            context, session, "metering.k8s_project_daily_cost", DAY_WINDOW, params, partition_column="usage_date",
            tables_sql=TABLES_SQL,
            figures={"raw_cost": "SUM(CAST(raw_cost AS DECIMAL(38, 15)))",
                     "markup_cost": "SUM(CAST(markup_cost AS DECIMAL(38, 15)))",
                     "total_cost": "SUM(CAST(total_cost AS DECIMAL(38, 15)))",
                     "unallocated_cost": "SUM(CAST(CASE WHEN namespace IN ('Worker unallocated', "
                                         "'Platform unallocated') THEN raw_cost ELSE 0 END AS DECIMAL(38, 15)))"},
            order_by="usage_date, cluster_id, node NULLS LAST, namespace, cost_type")
    metadata["cost_model_hashes"] = dg.MetadataValue.json(
        {model.name: model.content_hash for model in models.models})
    metadata["new_cost_model_versions"] = dg.MetadataValue.int(len(new))
    return dg.MaterializeResult(metadata=metadata, check_results=[
        *blocking,
        rows_check(CHECK_CLUSTERS_PRICED, unpriced, "clusters_without_model", severity=dg.AssetCheckSeverity.WARN,
                   failure=f"{len(unpriced)} cluster(s) have usage but no cost model: their usage has no cost "
                           "(add a model naming them, or one with no source_uuids, to cost_model.yaml)",
                   success="Every cluster with usage has a cost model")])


CHECKS = [
    dg.AssetCheckSpec(CHECK_COST_RECONCILES, asset=K8S_PROJECT_DAILY_COST, blocking=True,
                      description="ERROR unless, per day, cluster and cost type, the rows add up to the rate "
                                  "components priced again from the usage, every spread adds up to its whole "
                                  "(each part within 1e-9 USD of exact), and raw = cpu + memory + volume, "
                                  "total = raw + markup + distributed on every row."),
    dg.AssetCheckSpec(CHECK_NO_NEGATIVE_COST, asset=K8S_PROJECT_DAILY_COST, blocking=True,
                      description="ERROR when a row has a negative cpu, memory, volume, raw or total cost."),
    dg.AssetCheckSpec(CHECK_MODEL_OF_CLUSTER, asset=K8S_PROJECT_DAILY_COST, blocking=True,
                      description="ERROR when a row's cost_model_hash is not its cluster's cost model (recorded in "
                                  "config.cost_model_history)."),
    dg.AssetCheckSpec(CHECK_DISTRIBUTION_ZERO_SUM, asset=K8S_PROJECT_DAILY_COST, blocking=True,
                      description="ERROR unless, per cluster, day and cost type, distributed_cost adds up to 0 "
                                  "exactly, the total equals raw + markup before distribution, and a source row "
                                  "gives away exactly its cost (its total is 0)."),
    dg.AssetCheckSpec(CHECK_CLUSTERS_PRICED, asset=K8S_PROJECT_DAILY_COST,
                      description="WARN when a cluster has usage but no cost model: its usage has no cost."),
]


def month_to_date(tick: dt.datetime, project: Project) -> DayRange:
    """From the first of the month before the tick's day (on the 1st: the previous month's) to that day.

    Koku re-summarizes the current month from its first day; the day before the tick is the last whole one.
    """
    last = tick.astimezone(dt.timezone.utc).date() - dt.timedelta(days=1)
    return project.clip((last.replace(day=1), last))


def cost_models_fingerprint(models: CostModels) -> str:
    """The hashes of the models in force, in order: what the sensor compares between ticks ('' = no model)."""
    return ",".join(model.content_hash for model in models.models)


def changed_cost_model_run(context: dg.SensorEvaluationContext, config_files: CostattrConfig,
                           project: Project) -> dg.RunRequest | dg.SkipReason:
    """A run over the current month (to today) when cost_model.yaml's models changed since the last tick."""
    try:
        fingerprint = cost_models_fingerprint(load_cost_models(config_files.path))
    except CostattrInputError as error:  # a half-saved or broken file: say so, reprice nothing
        return dg.SkipReason(f"cost_model.yaml is not valid, nothing repriced: {error}")
    previous = context.cursor
    if previous == fingerprint:
        return dg.SkipReason("cost_model.yaml has not changed")
    context.update_cursor(fingerprint)
    if previous is None:
        return dg.SkipReason(f"first tick: cost models {fingerprint or '(none)'} remembered")
    today = dt.datetime.now(dt.timezone.utc).date()
    first, last = project.clip((today.replace(day=1), today))
    return range_request(f"{COST_MODEL_SENSOR}:{fingerprint or 'none'}:{first}", first, last)


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=K8S_PROJECT_DAILY_COST, deps=[K8S_POD_USAGE, K8S_STORAGE_USAGE, K8S_VM_USAGE,
                                                           K8S_NETWORK_USAGE, K8S_NODE_INFRASTRUCTURE_COST],
                     group_name="cost_models", kinds={"kubernetes", "duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="kubernetes", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.k8s_project_daily_cost"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(k8s_project_daily_cost)
    job = dg.define_asset_job("kubernetes_cost", selection=[K8S_POD_USAGE, K8S_STORAGE_USAGE, K8S_VM_USAGE,
                                                             K8S_NETWORK_USAGE, K8S_NODE_INFRASTRUCTURE_COST,
                                                             K8S_PROJECT_DAILY_COST],
                              description="Land Kubernetes usage and price it with the cost models for a range of "
                                          "days.")
    schedule = range_schedule(
        "kubernetes_cost_daily", "0 5 * * *", job, lambda tick: month_to_date(tick, project),
        "05:00 UTC: land the Kubernetes usage exports and price the month to date (to yesterday) with the cost "
        "models in force, as one run: a changed cost_model.yaml reprices the whole current month, as Koku does.")

    @dg.sensor(name=COST_MODEL_SENSOR, job=job, minimum_interval_seconds=300,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="Every 5 minutes: when the cost models of cost_model.yaml change (a new content hash), "
                           "launch kubernetes_cost over the current month from its first day, as Koku "
                           "re-summarizes after a cost-model change (backfill older months by hand). "
                           "config.cost_model_history then shows which hash every figure used.")
    def cost_model_changes(context: dg.SensorEvaluationContext, config_files: CostattrConfig):
        return changed_cost_model_run(context, config_files, project)

    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule], sensors=[cost_model_changes])
