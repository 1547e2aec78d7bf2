-- Replace the window's cost rows: the priced parts (k8s_cost_parts.sql) added up per day, cluster, node,
-- namespace and cost type, Infrastructure and Supplementary kept apart. raw_cost = cpu + memory + volume + network
-- + infrastructure (the cloud's node cost);
-- markup_cost = raw_cost x the model's markup fraction, rounded half away from zero to 15 decimals, never
-- folded into raw_cost; total = raw + markup + distributed.
-- Distribution (seed 003, Cost Distribution), per cluster, day and cost type, as the cluster's model switches it
-- (distribution_info): the cost (raw + markup) of platform rows (namespaces openshift-* and kube-*, any namespace
-- on a master or infra node, Platform unallocated), of Worker unallocated, Storage unattributed and Network
-- unattributed moves to
-- the user namespaces in proportion to their effective usage (cpu or memory, the model's distribution) on each
-- worker node that day; each source row gets its whole cost back as a negative distributed_cost, so the
-- distributed costs of a cluster-day add up to 0 exactly and no total changes. A pool is split by the
-- project's largest-remainder rule twice: its whole nano-dollars (unit 1e-9), then the rest (unit 1e-15), so
-- the parts add up to it exactly. A day without a user namespace using anything keeps its costs where they are.
DELETE FROM metering.k8s_project_daily_cost
WHERE usage_date >= :start_date AND usage_date < :end_date;

INSERT INTO metering.k8s_project_daily_cost
    (usage_date, cluster_id, node, namespace, cost_type, cost_model_cpu_cost, cost_model_memory_cost,
     cost_model_volume_cost, cost_model_network_cost, infrastructure_raw_cost, markup_cost, raw_cost,
     distributed_cost, total_cost, cost_model_hash)
WITH namespace_rows AS (
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash,
           MAX(markup_fraction) AS markup_fraction,
           SUM(CAST(CASE WHEN cost_column = 'cpu' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS cpu_cost,
           SUM(CAST(CASE WHEN cost_column = 'memory' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS memory_cost,
           SUM(CAST(CASE WHEN cost_column = 'volume' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS volume_cost,
           SUM(CAST(CASE WHEN cost_column = 'network' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS network_cost,
           SUM(CAST(CASE WHEN cost_column = 'infrastructure' THEN amount ELSE 0 END AS DECIMAL(38, 15)))
               AS infrastructure_cost
    FROM k8s_cost_parts
    GROUP BY usage_date, cluster_id, node, namespace, cost_type, cost_model_hash
),
priced AS (
    SELECT n.*, CAST(cpu_cost + memory_cost + volume_cost + network_cost + infrastructure_cost AS DECIMAL(38, 15))
                    AS raw_cost
    FROM namespace_rows AS n
),
marked_up AS (
    SELECT p.*, CAST(ROUND(p.raw_cost * CAST(p.markup_fraction AS DECIMAL(18, 6)), 15) AS DECIMAL(38, 15))
                    AS markup_cost
    FROM priced AS p
),
models AS (
    SELECT DISTINCT cost_model_hash, distribution, platform_cost, worker_cost, storage_unattributed,
           network_unattributed
    FROM config.cost_model_current
),
node_roles AS (
    SELECT usage_date, cluster_id, node, MAX(node_role) AS node_role
    FROM metering.k8s_pod_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date
    GROUP BY usage_date, cluster_id, node
),
classified AS (
    SELECT m.*,
           CASE WHEN m.namespace = 'Worker unallocated' THEN 'worker'
                WHEN m.namespace = 'Storage unattributed' THEN 'storage'
                WHEN m.namespace = 'Network unattributed' THEN 'network'
                WHEN m.namespace = 'Platform unallocated' OR m.namespace LIKE 'openshift-%'
                     OR m.namespace LIKE 'kube-%' OR r.node_role IN ('master', 'infra') THEN 'platform'
                ELSE 'user' END AS cost_kind
    FROM marked_up AS m
    LEFT JOIN node_roles AS r ON r.usage_date = m.usage_date AND r.cluster_id = m.cluster_id AND r.node = m.node
),
cluster_models AS (
    SELECT DISTINCT c.usage_date, c.cluster_id, c.cost_model_hash, mo.distribution, mo.platform_cost,
           mo.worker_cost, mo.storage_unattributed, mo.network_unattributed
    FROM classified AS c
    JOIN models AS mo ON mo.cost_model_hash = c.cost_model_hash
),
-- Who receives: user namespaces on worker nodes, weighted by their effective usage there that day.
receivers AS (
    SELECT p.usage_date, p.cluster_id, p.node, p.namespace, m.cost_model_hash,
           SUM(CAST(CASE WHEN m.distribution = 'memory'
                         THEN GREATEST(p.memory_gb_usage_hours, p.memory_gb_request_hours)
                         ELSE GREATEST(p.cpu_core_usage_hours, p.cpu_core_request_hours) END AS DECIMAL(38, 6)))
               AS weight
    FROM metering.k8s_pod_usage AS p
    JOIN cluster_models AS m ON m.usage_date = p.usage_date AND m.cluster_id = p.cluster_id
    WHERE p.usage_date >= :start_date AND p.usage_date < :end_date
      AND p.node_role = 'worker' AND p.namespace NOT LIKE 'openshift-%' AND p.namespace NOT LIKE 'kube-%'
    GROUP BY p.usage_date, p.cluster_id, p.node, p.namespace, m.cost_model_hash
    HAVING SUM(CAST(CASE WHEN m.distribution = 'memory'
                         THEN GREATEST(p.memory_gb_usage_hours, p.memory_gb_request_hours)
                         ELSE GREATEST(p.cpu_core_usage_hours, p.cpu_core_request_hours) END AS DECIMAL(38, 6))) > 0
),
receiver_totals AS (
    SELECT usage_date, cluster_id, SUM(CAST(weight AS DECIMAL(38, 6))) AS total_weight
    FROM receivers GROUP BY usage_date, cluster_id
),
-- What moves: each source row's whole cost, where the cluster-day has receivers and the model switches it on.
sources AS (
    SELECT c.usage_date, c.cluster_id, c.node, c.namespace, c.cost_type, c.cost_model_hash,
           CAST(c.raw_cost + c.markup_cost AS DECIMAL(38, 15)) AS amount
    FROM classified AS c
    JOIN cluster_models AS m ON m.usage_date = c.usage_date AND m.cluster_id = c.cluster_id
    JOIN receiver_totals AS t ON t.usage_date = c.usage_date AND t.cluster_id = c.cluster_id
    WHERE (c.cost_kind = 'platform' AND m.platform_cost) OR (c.cost_kind = 'worker' AND m.worker_cost)
       OR (c.cost_kind = 'storage' AND m.storage_unattributed)
       OR (c.cost_kind = 'network' AND m.network_unattributed)
),
pools AS (
    SELECT usage_date, cluster_id, cost_type, SUM(CAST(amount AS DECIMAL(38, 15))) AS pool
    FROM sources GROUP BY usage_date, cluster_id, cost_type
),
pool_parts AS (
    SELECT p.*, CAST(CAST(FLOOR(p.pool * 1000000000) AS DECIMAL(38, 0)) * 0.000000001 AS DECIMAL(38, 9)) AS nano_pool
    FROM pools AS p
),
distribution_nano_input AS (
    SELECT r.usage_date, r.cluster_id, r.node, r.namespace, p.cost_type, r.cost_model_hash,
           CAST(r.usage_date AS VARCHAR) || '|' || r.cluster_id || '|' || p.cost_type AS split_group,
           r.namespace || '|' || r.node AS split_item, CAST(NULL AS VARCHAR) AS split_subitem,
           CAST(p.nano_pool * r.weight AS DECIMAL(38, 15)) AS numerator, t.total_weight AS denominator,
           p.nano_pool AS rounded_total, CAST(0.000000001 AS DECIMAL(10, 9)) AS split_unit
    FROM receivers AS r
    JOIN receiver_totals AS t ON t.usage_date = r.usage_date AND t.cluster_id = r.cluster_id
    JOIN pool_parts AS p ON p.usage_date = r.usage_date AND p.cluster_id = r.cluster_id
),
distribution_fine_input AS (
    SELECT r.usage_date, r.cluster_id, r.node, r.namespace, p.cost_type, r.cost_model_hash,
           CAST(r.usage_date AS VARCHAR) || '|' || r.cluster_id || '|' || p.cost_type AS split_group,
           r.namespace || '|' || r.node AS split_item, CAST(NULL AS VARCHAR) AS split_subitem,
           CAST((p.pool - p.nano_pool) * r.weight AS DECIMAL(38, 21)) AS numerator, t.total_weight AS denominator,
           CAST(p.pool - p.nano_pool AS DECIMAL(38, 15)) AS rounded_total,
           CAST(0.000000000000001 AS DECIMAL(16, 15)) AS split_unit
    FROM receivers AS r
    JOIN receiver_totals AS t ON t.usage_date = r.usage_date AND t.cluster_id = r.cluster_id
    JOIN pool_parts AS p ON p.usage_date = r.usage_date AND p.cluster_id = r.cluster_id
),
cost_rows AS (
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash, cpu_cost, memory_cost, volume_cost,
           network_cost, infrastructure_cost, markup_cost, raw_cost, CAST(0 AS DECIMAL(38, 15)) AS distributed_cost
    FROM marked_up
    UNION ALL
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash, 0, 0, 0, 0, 0, 0, 0, -amount
    FROM sources
    UNION ALL
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash, 0, 0, 0, 0, 0, 0, 0,
           CAST(split_part AS DECIMAL(38, 15))
    FROM distribution_nano_split
    UNION ALL
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash, 0, 0, 0, 0, 0, 0, 0,
           CAST(split_part AS DECIMAL(38, 15))
    FROM distribution_fine_split
),
final_rows AS (
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash,
           SUM(CAST(cpu_cost AS DECIMAL(38, 15))) AS cpu_cost,
           SUM(CAST(memory_cost AS DECIMAL(38, 15))) AS memory_cost,
           SUM(CAST(volume_cost AS DECIMAL(38, 15))) AS volume_cost,
           SUM(CAST(network_cost AS DECIMAL(38, 15))) AS network_cost,
           SUM(CAST(infrastructure_cost AS DECIMAL(38, 15))) AS infrastructure_cost,
           SUM(CAST(markup_cost AS DECIMAL(38, 15))) AS markup_cost,
           SUM(CAST(raw_cost AS DECIMAL(38, 15))) AS raw_cost,
           SUM(CAST(distributed_cost AS DECIMAL(38, 15))) AS distributed_cost
    FROM cost_rows
    GROUP BY usage_date, cluster_id, node, namespace, cost_type, cost_model_hash
)
SELECT usage_date, cluster_id, node, namespace, cost_type, cpu_cost, memory_cost, volume_cost, network_cost,
       infrastructure_cost, markup_cost, raw_cost, distributed_cost, CAST(raw_cost + markup_cost + distributed_cost AS DECIMAL(38, 15)),
       cost_model_hash
FROM final_rows;
