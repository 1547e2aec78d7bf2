-- Replace the window's cost rows: the priced parts (k8s_cost_parts.sql) added up per day, cluster, node,
-- namespace and cost type, Infrastructure and Supplementary kept apart. raw_cost = cpu + memory + volume;
-- markup_cost = raw_cost x the model's markup fraction, rounded half away from zero to 15 decimals, never
-- folded into raw_cost; distributed_cost is 0 (distribution moves cost later); total = raw + markup + distributed.
DELETE FROM metering.k8s_project_daily_cost
WHERE usage_date >= :start_date AND usage_date < :end_date;

INSERT INTO metering.k8s_project_daily_cost
    (usage_date, cluster_id, node, namespace, cost_type, cost_model_cpu_cost, cost_model_memory_cost,
     cost_model_volume_cost, markup_cost, raw_cost, distributed_cost, total_cost, cost_model_hash)
WITH namespace_rows AS (
    SELECT usage_date, cluster_id, node, namespace, cost_type, cost_model_hash,
           MAX(markup_fraction) AS markup_fraction,
           SUM(CAST(CASE WHEN cost_column = 'cpu' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS cpu_cost,
           SUM(CAST(CASE WHEN cost_column = 'memory' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS memory_cost,
           SUM(CAST(CASE WHEN cost_column = 'volume' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS volume_cost
    FROM k8s_cost_parts
    GROUP BY usage_date, cluster_id, node, namespace, cost_type, cost_model_hash
),
priced AS (
    SELECT n.*, CAST(cpu_cost + memory_cost + volume_cost AS DECIMAL(38, 15)) AS raw_cost
    FROM namespace_rows AS n
),
marked_up AS (
    SELECT p.*, CAST(ROUND(p.raw_cost * CAST(p.markup_fraction AS DECIMAL(18, 6)), 15) AS DECIMAL(38, 15))
                    AS markup_cost
    FROM priced AS p
)
SELECT usage_date, cluster_id, node, namespace, cost_type, cpu_cost, memory_cost, volume_cost, markup_cost,
       raw_cost, CAST(0 AS DECIMAL(38, 15)), CAST(raw_cost + markup_cost AS DECIMAL(38, 15)), cost_model_hash
FROM marked_up;
