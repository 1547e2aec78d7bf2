-- Where the written rows of the window do not add up (empty: all good), per day, cluster and cost type:
--   the rows' cpu, memory, volume and network costs equal the priced parts (k8s_cost_parts.sql, computed again);
--   every node or cluster spread, claim- or machine-day adds up to its whole (its exact amount rounded to 1e-9)
--   and each of its parts is within 1e-9 of its exact value;
--   raw = cpu + memory + volume + network and total = raw + markup + distributed on every row.
WITH parts AS (
    SELECT * FROM k8s_cost_parts
),
expected AS (
    SELECT usage_date, cluster_id, cost_type,
           SUM(CAST(CASE WHEN cost_column = 'cpu' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS cpu_cost,
           SUM(CAST(CASE WHEN cost_column = 'memory' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS memory_cost,
           SUM(CAST(CASE WHEN cost_column = 'volume' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS volume_cost,
           SUM(CAST(CASE WHEN cost_column = 'network' THEN amount ELSE 0 END AS DECIMAL(38, 15))) AS network_cost,
           SUM(CAST(CASE WHEN cost_column = 'infrastructure' THEN amount ELSE 0 END AS DECIMAL(38, 15)))
               AS infrastructure_cost
    FROM parts GROUP BY usage_date, cluster_id, cost_type
),
written AS (
    SELECT usage_date, cluster_id, cost_type,
           SUM(CAST(cost_model_cpu_cost AS DECIMAL(38, 15))) AS cpu_cost,
           SUM(CAST(cost_model_memory_cost AS DECIMAL(38, 15))) AS memory_cost,
           SUM(CAST(cost_model_volume_cost AS DECIMAL(38, 15))) AS volume_cost,
           SUM(CAST(cost_model_network_cost AS DECIMAL(38, 15))) AS network_cost,
           SUM(CAST(infrastructure_raw_cost AS DECIMAL(38, 15))) AS infrastructure_cost,
           SUM(CASE WHEN raw_cost <> cost_model_cpu_cost + cost_model_memory_cost + cost_model_volume_cost
                                     + cost_model_network_cost + infrastructure_raw_cost
                      OR total_cost <> raw_cost + markup_cost + distributed_cost THEN 1 ELSE 0 END) AS rows_not_adding_up
    FROM metering.k8s_project_daily_cost
    WHERE usage_date >= :start_date AND usage_date < :end_date
    GROUP BY usage_date, cluster_id, cost_type
),
groups_not_adding_up AS (
    SELECT split_group, MIN(usage_date) AS usage_date, MIN(cluster_id) AS cluster_id, MIN(cost_type) AS cost_type,
           SUM(CAST(amount AS DECIMAL(38, 15))) AS parts, MAX(rounded_total) AS whole
    FROM parts WHERE split_group IS NOT NULL
    GROUP BY split_group
    HAVING SUM(CAST(amount AS DECIMAL(38, 15))) <> MAX(rounded_total)
        OR SUM(CASE WHEN amount < 0 OR (amount - 0.000000001) * denominator >= numerator
                      OR (amount + 0.000000001) * denominator <= numerator THEN 1 ELSE 0 END) > 0
)
SELECT COALESCE(e.usage_date, w.usage_date) AS usage_date, COALESCE(e.cluster_id, w.cluster_id) AS cluster_id,
       COALESCE(e.cost_type, w.cost_type) AS cost_type, 'rows' AS what,
       CAST(e.cpu_cost + e.memory_cost + e.volume_cost + e.network_cost + e.infrastructure_cost AS DECIMAL(38, 15))
           AS expected,
       CAST(w.cpu_cost + w.memory_cost + w.volume_cost + w.network_cost + w.infrastructure_cost AS DECIMAL(38, 15))
           AS written
FROM expected AS e
FULL OUTER JOIN written AS w
  ON w.usage_date = e.usage_date AND w.cluster_id = e.cluster_id AND w.cost_type = e.cost_type
WHERE COALESCE(e.cpu_cost, 0) <> COALESCE(w.cpu_cost, 0) OR COALESCE(e.memory_cost, 0) <> COALESCE(w.memory_cost, 0)
   OR COALESCE(e.volume_cost, 0) <> COALESCE(w.volume_cost, 0) OR COALESCE(e.network_cost, 0) <> COALESCE(w.network_cost, 0)
   OR COALESCE(e.infrastructure_cost, 0) <> COALESCE(w.infrastructure_cost, 0)
   OR COALESCE(w.rows_not_adding_up, 0) > 0
UNION ALL
SELECT usage_date, cluster_id, cost_type, split_group, CAST(whole AS DECIMAL(38, 15)), parts
FROM groups_not_adding_up
ORDER BY 1, 2, 3, 4
LIMIT 20
