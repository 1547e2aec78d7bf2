-- Every priced part of the window's Kubernetes cost, before it is added up per namespace row (seed 003, Koku):
--   usage rates      rate x the row's quantity, exactly (quantity 6 decimals x rate 9 = 15 decimals); a tag
--                    rate when the row's label names a value (or the key is there and a default exists), else the
--                    tiered rate, graduated over the row's quantity;
--   node and cluster node_cost_per_month, node_core_cost_per_month (x cores), node_core_cost_per_hour
--                    (x core-hours), cluster_cost_per_month, cluster_core_cost_per_hour: the node's (cluster's)
--                    amount of the day spread by effective usage over capacity (cpu or memory, as the model's
--                    distribution), the capacity no pod uses to Worker unallocated (worker nodes) or Platform
--                    unallocated (master, infra) at the tiered rate (else the default tag rate);
--   pvc, vm          rate / days in the month per claim or machine and day;
--   network          network_cost_per_gb x GB in + out per row (no namespace: Network unattributed);
--   cloud            a node's cloud cost of the day (node_infrastructure_cost), spread like a node cost.
-- Each spread (a node's or cluster's day, a claim's or machine's day) is a split group: its whole is its exact
-- amount rounded half away from zero to 1e-9 USD, split by the project's largest-remainder rule (split_parts),
-- so the parts add up to the whole exactly and each is within 1e-9 of its exact value.
-- Relations bound at run time: pod_tag_values, storage_tag_values, vm_tag_values (one row per row and label
-- key a tag rate reads, with the label's value), split_parts (lib/largest_remainder.sql over k8s_split_input).
WITH current_models AS (
    SELECT * FROM config.cost_model_current WHERE source_type = 'OCP'
),
rates AS (
    SELECT r.* FROM config.cost_model_rates AS r
    WHERE r.cost_model_hash IN (SELECT cost_model_hash FROM current_models)
),
pod_rows AS (
    SELECT p.*,
           GREATEST(p.cpu_core_usage_hours, p.cpu_core_request_hours) AS cpu_core_effective_hours,
           GREATEST(p.memory_gb_usage_hours, p.memory_gb_request_hours) AS memory_gb_effective_hours
    FROM metering.k8s_pod_usage AS p
    WHERE p.usage_date >= :start_date AND p.usage_date < :end_date
),
storage_rows AS (
    SELECT s.*, COALESCE(s.namespace, '') AS namespace_key, COALESCE(s.pvc, '') AS pvc_key,
           COALESCE(s.storage_class, '') AS storage_class_key
    FROM metering.k8s_storage_usage AS s
    WHERE s.usage_date >= :start_date AND s.usage_date < :end_date
),
vm_rows AS (
    SELECT v.* FROM metering.k8s_vm_usage AS v
    WHERE v.usage_date >= :start_date AND v.usage_date < :end_date
),
network_rows AS (
    SELECT n.*, n.data_transfer_in_gb + n.data_transfer_out_gb AS quantity FROM metering.k8s_network_usage AS n
    WHERE n.usage_date >= :start_date AND n.usage_date < :end_date
),
clusters AS (
    SELECT cluster_id FROM pod_rows
    UNION SELECT cluster_id FROM storage_rows
    UNION SELECT cluster_id FROM vm_rows
    UNION SELECT cluster_id FROM network_rows
    UNION SELECT cluster_id FROM metering.k8s_node_infrastructure_cost
          WHERE usage_date >= :start_date AND usage_date < :end_date
),
-- A cluster's model: the one naming it, else the one naming no cluster.
cluster_models AS (
    SELECT c.cluster_id,
           COALESCE(named.cost_model_hash, every_cluster.cost_model_hash) AS cost_model_hash,
           COALESCE(named.markup_fraction, every_cluster.markup_fraction) AS markup_fraction,
           COALESCE(named.distribution, every_cluster.distribution) AS distribution
    FROM clusters AS c
    LEFT JOIN current_models AS named ON named.cluster_id = c.cluster_id
    LEFT JOIN current_models AS every_cluster ON every_cluster.cluster_id IS NULL
    WHERE COALESCE(named.cost_model_hash, every_cluster.cost_model_hash) IS NOT NULL
),
pods AS (
    SELECT p.*, m.cost_model_hash, m.markup_fraction, m.distribution,
           CASE WHEN m.distribution = 'memory' THEN p.memory_gb_effective_hours
                ELSE p.cpu_core_effective_hours END AS distribution_usage,
           CASE WHEN m.distribution = 'memory' THEN p.node_capacity_memory_gb_hours
                ELSE p.node_capacity_cpu_core_hours END AS distribution_capacity,
           EXTRACT(DAY FROM LAST_DAY(p.usage_date)) AS days_in_month
    FROM pod_rows AS p
    JOIN cluster_models AS m ON m.cluster_id = p.cluster_id
),
storage AS (
    SELECT s.*, m.cost_model_hash, m.markup_fraction, EXTRACT(DAY FROM LAST_DAY(s.usage_date)) AS days_in_month
    FROM storage_rows AS s
    JOIN cluster_models AS m ON m.cluster_id = s.cluster_id
),
vms AS (
    SELECT v.*, m.cost_model_hash, m.markup_fraction, EXTRACT(DAY FROM LAST_DAY(v.usage_date)) AS days_in_month
    FROM vm_rows AS v
    JOIN cluster_models AS m ON m.cluster_id = v.cluster_id
),
-- Network: GB in + out x network_cost_per_gb (graduated over the row); no namespace: Network unattributed.
network_parts AS (
    SELECT n.usage_date, n.cluster_id, n.node, COALESCE(n.namespace, 'Network unattributed') AS namespace,
           r.cost_type, 'network' AS cost_column, r.metric, m.cost_model_hash, m.markup_fraction,
           SUM(CAST(GREATEST(CAST(0 AS DECIMAL(38, 6)),
                             LEAST(n.quantity, COALESCE(r.usage_end, n.quantity)) - COALESCE(r.usage_start, 0))
                    * r.rate AS DECIMAL(38, 15))) AS amount
    FROM network_rows AS n
    JOIN cluster_models AS m ON m.cluster_id = n.cluster_id
    JOIN rates AS r ON r.cost_model_hash = m.cost_model_hash AND r.metric = 'network_cost_per_gb' AND r.tag_key IS NULL
    GROUP BY n.usage_date, n.cluster_id, n.node, n.namespace, r.cost_type, r.metric, m.cost_model_hash,
             m.markup_fraction
),
tag_keys AS (
    SELECT DISTINCT cost_model_hash, metric, cost_type, tag_key FROM rates WHERE tag_key IS NOT NULL
),
-- Every tag value the window's rows carry for a key a tag rate reads (pods, volumes and machines alike).
observed_tag_values AS (
    SELECT tag_key, tag_value FROM pod_tag_values WHERE tag_value IS NOT NULL
    UNION SELECT tag_key, tag_value FROM storage_tag_values WHERE tag_value IS NOT NULL
    UNION SELECT tag_key, tag_value FROM vm_tag_values WHERE tag_value IS NOT NULL
),
-- The tag rate of an observed value for a model's metric: the value's own rate, else the key's default rate.
tag_value_rates AS (
    SELECT k.cost_model_hash, k.metric, k.cost_type, k.tag_key, o.tag_value,
           COALESCE(exact_value.rate, default_value.rate) AS rate
    FROM tag_keys AS k
    JOIN observed_tag_values AS o ON o.tag_key = k.tag_key
    LEFT JOIN rates AS exact_value
      ON exact_value.cost_model_hash = k.cost_model_hash AND exact_value.metric = k.metric
     AND exact_value.cost_type = k.cost_type AND exact_value.tag_key = k.tag_key AND exact_value.tag_value = o.tag_value
    LEFT JOIN rates AS default_value
      ON default_value.cost_model_hash = k.cost_model_hash AND default_value.metric = k.metric
     AND default_value.cost_type = k.cost_type AND default_value.tag_key = k.tag_key AND default_value.is_default
    WHERE COALESCE(exact_value.rate, default_value.rate) IS NOT NULL
),
-- The tag rate of a pod, volume or machine row for a metric: the rate of the value its label has.
pod_tag_rates AS (
    SELECT p.usage_date, p.cluster_id, p.node, p.namespace, p.pod, t.metric, t.cost_type, t.rate
    FROM pods AS p
    JOIN pod_tag_values AS v
      ON v.usage_date = p.usage_date AND v.cluster_id = p.cluster_id AND v.node = p.node
     AND v.namespace = p.namespace AND v.pod = p.pod
    JOIN tag_value_rates AS t
      ON t.cost_model_hash = p.cost_model_hash AND t.tag_key = v.tag_key AND t.tag_value = v.tag_value
    WHERE t.metric NOT IN ('storage_gb_usage_per_month', 'storage_gb_request_per_month', 'pvc_cost_per_month',
                           'vm_cost_per_month')
),
storage_tag_rates AS (
    SELECT s.usage_date, s.cluster_id, s.namespace_key, s.pvc_key, s.storage_class_key, t.metric, t.cost_type, t.rate
    FROM storage AS s
    JOIN storage_tag_values AS v
      ON v.usage_date = s.usage_date AND v.cluster_id = s.cluster_id AND v.namespace_key = s.namespace_key
     AND v.pvc_key = s.pvc_key AND v.storage_class_key = s.storage_class_key
    JOIN tag_value_rates AS t
      ON t.cost_model_hash = s.cost_model_hash AND t.tag_key = v.tag_key AND t.tag_value = v.tag_value
    WHERE t.metric IN ('storage_gb_usage_per_month', 'storage_gb_request_per_month', 'pvc_cost_per_month')
),
vm_tag_rates AS (
    SELECT m.usage_date, m.cluster_id, m.namespace, m.vm_name, t.metric, t.cost_type, t.rate
    FROM vms AS m
    JOIN vm_tag_values AS v
      ON v.usage_date = m.usage_date AND v.cluster_id = m.cluster_id AND v.namespace = m.namespace
     AND v.vm_name = m.vm_name
    JOIN tag_value_rates AS t
      ON t.cost_model_hash = m.cost_model_hash AND t.tag_key = v.tag_key AND t.tag_value = v.tag_value
    WHERE t.metric = 'vm_cost_per_month'
),
priced_metrics AS (
    SELECT DISTINCT cost_model_hash, metric, cost_type FROM rates
),
-- Usage rates: every pod row x every cpu/memory usage metric its model prices, with the row's quantity.
pod_usage_metrics AS (
    SELECT p.usage_date, p.cluster_id, p.node, p.namespace, p.pod, p.cost_model_hash, p.markup_fraction,
           m.metric, m.cost_type,
           CASE WHEN m.metric LIKE 'cpu%' THEN 'cpu' ELSE 'memory' END AS cost_column,
           CASE m.metric
               WHEN 'cpu_core_usage_per_hour' THEN p.cpu_core_usage_hours
               WHEN 'cpu_core_request_per_hour' THEN p.cpu_core_request_hours
               WHEN 'cpu_core_effective_usage_per_hour' THEN p.cpu_core_effective_hours
               WHEN 'memory_gb_usage_per_hour' THEN p.memory_gb_usage_hours
               WHEN 'memory_gb_request_per_hour' THEN p.memory_gb_request_hours
               ELSE p.memory_gb_effective_hours END AS quantity
    FROM pods AS p
    JOIN priced_metrics AS m ON m.cost_model_hash = p.cost_model_hash
    WHERE m.metric IN ('cpu_core_usage_per_hour', 'cpu_core_request_per_hour', 'cpu_core_effective_usage_per_hour',
                       'memory_gb_usage_per_hour', 'memory_gb_request_per_hour', 'memory_gb_effective_usage_per_hour')
),
pod_usage_parts AS (
    SELECT u.usage_date, u.cluster_id, u.node, u.namespace, u.cost_type, u.cost_column, u.metric,
           u.cost_model_hash, u.markup_fraction,
           CASE WHEN MAX(t.rate) IS NOT NULL THEN CAST(MAX(u.quantity) * MAX(t.rate) AS DECIMAL(38, 15))
                ELSE SUM(CAST(GREATEST(CAST(0 AS DECIMAL(38, 6)),
                                       LEAST(u.quantity, COALESCE(r.usage_end, u.quantity)) - COALESCE(r.usage_start, 0))
                              * r.rate AS DECIMAL(38, 15))) END AS amount
    FROM pod_usage_metrics AS u
    LEFT JOIN pod_tag_rates AS t
      ON t.usage_date = u.usage_date AND t.cluster_id = u.cluster_id AND t.node = u.node
     AND t.namespace = u.namespace AND t.pod = u.pod AND t.metric = u.metric AND t.cost_type = u.cost_type
    LEFT JOIN rates AS r
      ON t.rate IS NULL AND r.cost_model_hash = u.cost_model_hash AND r.metric = u.metric
     AND r.cost_type = u.cost_type AND r.tag_key IS NULL
    GROUP BY u.usage_date, u.cluster_id, u.node, u.namespace, u.pod, u.cost_type, u.cost_column, u.metric,
             u.cost_model_hash, u.markup_fraction
    HAVING MAX(t.rate) IS NOT NULL OR COUNT(r.rate) > 0
),
storage_usage_metrics AS (
    SELECT s.usage_date, s.cluster_id, s.namespace, s.namespace_key, s.pvc_key, s.storage_class_key,
           s.cost_model_hash, s.markup_fraction, m.metric, m.cost_type,
           CASE m.metric WHEN 'storage_gb_usage_per_month' THEN s.storage_gb_usage_months
                ELSE s.storage_gb_request_months END AS quantity
    FROM storage AS s
    JOIN priced_metrics AS m ON m.cost_model_hash = s.cost_model_hash
    WHERE m.metric IN ('storage_gb_usage_per_month', 'storage_gb_request_per_month')
),
storage_usage_parts AS (
    SELECT u.usage_date, u.cluster_id, CAST(NULL AS VARCHAR) AS node,
           COALESCE(u.namespace, 'Storage unattributed') AS namespace, u.cost_type, 'volume' AS cost_column,
           u.metric, u.cost_model_hash, u.markup_fraction,
           CASE WHEN MAX(t.rate) IS NOT NULL THEN CAST(MAX(u.quantity) * MAX(t.rate) AS DECIMAL(38, 15))
                ELSE SUM(CAST(GREATEST(CAST(0 AS DECIMAL(38, 6)),
                                       LEAST(u.quantity, COALESCE(r.usage_end, u.quantity)) - COALESCE(r.usage_start, 0))
                              * r.rate AS DECIMAL(38, 15))) END AS amount
    FROM storage_usage_metrics AS u
    LEFT JOIN storage_tag_rates AS t
      ON t.usage_date = u.usage_date AND t.cluster_id = u.cluster_id AND t.namespace_key = u.namespace_key
     AND t.pvc_key = u.pvc_key AND t.storage_class_key = u.storage_class_key
     AND t.metric = u.metric AND t.cost_type = u.cost_type
    LEFT JOIN rates AS r
      ON t.rate IS NULL AND r.cost_model_hash = u.cost_model_hash AND r.metric = u.metric
     AND r.cost_type = u.cost_type AND r.tag_key IS NULL
    GROUP BY u.usage_date, u.cluster_id, u.namespace, u.namespace_key, u.pvc_key, u.storage_class_key, u.cost_type,
             u.metric, u.cost_model_hash, u.markup_fraction
    HAVING MAX(t.rate) IS NOT NULL OR COUNT(r.rate) > 0
),
-- Node and cluster costs: each pod's rate (tag, else tiered) and the rate of the capacity no pod uses.
spread_metrics AS (
    SELECT * FROM priced_metrics
    WHERE metric IN ('node_cost_per_month', 'node_core_cost_per_month', 'node_core_cost_per_hour',
                     'cluster_cost_per_month', 'cluster_core_cost_per_hour')
),
tiered_rates AS (
    SELECT cost_model_hash, metric, cost_type, rate FROM rates WHERE tag_key IS NULL
),
default_tag_rates AS (
    SELECT cost_model_hash, metric, cost_type, rate FROM rates WHERE is_default
),
nodes AS (
    SELECT usage_date, cluster_id, node, cost_model_hash, markup_fraction, distribution,
           MAX(node_role) AS node_role,
           MAX(days_in_month) AS days_in_month,
           MAX(node_capacity_cpu_core_hours) AS node_cpu_core_hours,
           SUM(CAST(distribution_usage AS DECIMAL(38, 6))) AS used,
           -- Pods may report more effective usage than the node's capacity: the node's cost then follows the usage.
           GREATEST(MAX(distribution_capacity), SUM(CAST(distribution_usage AS DECIMAL(38, 6)))) AS capacity
    FROM pods
    GROUP BY usage_date, cluster_id, node, cost_model_hash, markup_fraction, distribution
),
cluster_days AS (
    SELECT usage_date, cluster_id, SUM(CAST(capacity AS DECIMAL(38, 6))) AS capacity,
           SUM(CAST(node_cpu_core_hours AS DECIMAL(38, 6))) AS cpu_core_hours
    FROM nodes GROUP BY usage_date, cluster_id
),
spread_shares AS (
    SELECT p.usage_date, p.cluster_id, p.node, p.namespace, p.pod AS split_item, s.metric, s.cost_type,
           p.distribution_usage AS usage, COALESCE(t.rate, tier.rate) AS rate
    FROM pods AS p
    JOIN spread_metrics AS s ON s.cost_model_hash = p.cost_model_hash
    LEFT JOIN pod_tag_rates AS t
      ON t.usage_date = p.usage_date AND t.cluster_id = p.cluster_id AND t.node = p.node
     AND t.namespace = p.namespace AND t.pod = p.pod AND t.metric = s.metric AND t.cost_type = s.cost_type
    LEFT JOIN tiered_rates AS tier
      ON tier.cost_model_hash = s.cost_model_hash AND tier.metric = s.metric AND tier.cost_type = s.cost_type
    WHERE COALESCE(t.rate, tier.rate) IS NOT NULL
    UNION ALL
    SELECT n.usage_date, n.cluster_id, n.node,
           CASE WHEN n.node_role = 'worker' THEN 'Worker unallocated' ELSE 'Platform unallocated' END,
           CASE WHEN n.node_role = 'worker' THEN 'Worker unallocated' ELSE 'Platform unallocated' END,
           s.metric, s.cost_type, n.capacity - n.used, COALESCE(tier.rate, dflt.rate)
    FROM nodes AS n
    JOIN spread_metrics AS s ON s.cost_model_hash = n.cost_model_hash
    LEFT JOIN tiered_rates AS tier
      ON tier.cost_model_hash = s.cost_model_hash AND tier.metric = s.metric AND tier.cost_type = s.cost_type
    LEFT JOIN default_tag_rates AS dflt
      ON dflt.cost_model_hash = s.cost_model_hash AND dflt.metric = s.metric AND dflt.cost_type = s.cost_type
    WHERE n.capacity > n.used AND COALESCE(tier.rate, dflt.rate) IS NOT NULL
),
spread_input AS (
    SELECT sh.usage_date, sh.cluster_id, sh.node, sh.namespace, sh.cost_type, sh.metric,
           CASE WHEN n.distribution = 'memory' THEN 'memory' ELSE 'cpu' END AS cost_column,
           n.cost_model_hash, n.markup_fraction,
           CAST(sh.usage_date AS VARCHAR) || '|' || sh.cluster_id || '|' || sh.metric || '|' || sh.cost_type
               || CASE WHEN sh.metric LIKE 'node%' THEN '|' || sh.node ELSE '' END AS split_group,
           sh.namespace || '|' || sh.node || '|' || sh.split_item AS split_item,
           CAST(CASE sh.metric
                    WHEN 'node_cost_per_month' THEN sh.usage * sh.rate
                    WHEN 'cluster_cost_per_month' THEN sh.usage * sh.rate
                    WHEN 'cluster_core_cost_per_hour' THEN sh.usage * sh.rate * c.cpu_core_hours
                    ELSE sh.usage * sh.rate * n.node_cpu_core_hours END AS DECIMAL(38, 21)) AS numerator,
           CAST(CASE sh.metric
                    WHEN 'node_cost_per_month' THEN n.capacity * n.days_in_month
                    WHEN 'node_core_cost_per_month' THEN n.capacity * 24 * n.days_in_month
                    WHEN 'node_core_cost_per_hour' THEN n.capacity
                    WHEN 'cluster_cost_per_month' THEN c.capacity * n.days_in_month
                    ELSE c.capacity END AS DECIMAL(38, 6)) AS denominator
    FROM spread_shares AS sh
    JOIN nodes AS n ON n.usage_date = sh.usage_date AND n.cluster_id = sh.cluster_id AND n.node = sh.node
    JOIN cluster_days AS c ON c.usage_date = sh.usage_date AND c.cluster_id = sh.cluster_id
),
-- Monthly rates per claim and per machine: rate / days in the month (one part per group).
pvc_input AS (
    SELECT s.usage_date, s.cluster_id, CAST(NULL AS VARCHAR) AS node, s.namespace, m.cost_type, m.metric,
           'volume' AS cost_column, s.cost_model_hash, s.markup_fraction,
           CAST(s.usage_date AS VARCHAR) || '|' || s.cluster_id || '|' || m.metric || '|' || m.cost_type || '|'
               || s.namespace_key || '|' || s.pvc_key || '|' || s.storage_class_key AS split_group,
           s.pvc AS split_item,
           CAST(COALESCE(t.rate, tier.rate) AS DECIMAL(38, 21)) AS numerator,
           CAST(s.days_in_month AS DECIMAL(38, 6)) AS denominator
    FROM storage AS s
    JOIN priced_metrics AS m ON m.cost_model_hash = s.cost_model_hash AND m.metric = 'pvc_cost_per_month'
    LEFT JOIN storage_tag_rates AS t
      ON t.usage_date = s.usage_date AND t.cluster_id = s.cluster_id AND t.namespace_key = s.namespace_key
     AND t.pvc_key = s.pvc_key AND t.storage_class_key = s.storage_class_key
     AND t.metric = m.metric AND t.cost_type = m.cost_type
    LEFT JOIN tiered_rates AS tier
      ON tier.cost_model_hash = m.cost_model_hash AND tier.metric = m.metric AND tier.cost_type = m.cost_type
    WHERE s.pvc IS NOT NULL AND COALESCE(t.rate, tier.rate) IS NOT NULL
),
vm_input AS (
    SELECT v.usage_date, v.cluster_id, v.node, v.namespace, m.cost_type, m.metric, 'cpu' AS cost_column,
           v.cost_model_hash, v.markup_fraction,
           CAST(v.usage_date AS VARCHAR) || '|' || v.cluster_id || '|' || m.metric || '|' || m.cost_type || '|'
               || v.namespace || '|' || v.vm_name AS split_group,
           v.vm_name AS split_item,
           CAST(COALESCE(t.rate, tier.rate) AS DECIMAL(38, 21)) AS numerator,
           CAST(v.days_in_month AS DECIMAL(38, 6)) AS denominator
    FROM vms AS v
    JOIN priced_metrics AS m ON m.cost_model_hash = v.cost_model_hash AND m.metric = 'vm_cost_per_month'
    LEFT JOIN vm_tag_rates AS t
      ON t.usage_date = v.usage_date AND t.cluster_id = v.cluster_id AND t.namespace = v.namespace
     AND t.vm_name = v.vm_name AND t.metric = m.metric AND t.cost_type = m.cost_type
    LEFT JOIN tiered_rates AS tier
      ON tier.cost_model_hash = m.cost_model_hash AND tier.metric = m.metric AND tier.cost_type = m.cost_type
    WHERE COALESCE(t.rate, tier.rate) IS NOT NULL
),
-- OCP on a cloud: each node's cloud cost of the day, spread by effective usage over its capacity like a node
-- cost, the rest unallocated; a node without pods (or capacity) that day: all of it Worker unallocated.
cloud_costs AS (
    SELECT c.usage_date, c.cluster_id, c.node, c.cost_usd, m.cost_model_hash, m.markup_fraction
    FROM metering.k8s_node_infrastructure_cost AS c
    JOIN cluster_models AS m ON m.cluster_id = c.cluster_id
    WHERE c.usage_date >= :start_date AND c.usage_date < :end_date
),
cloud_input AS (
    SELECT p.usage_date, p.cluster_id, p.node, p.namespace, 'Infrastructure' AS cost_type,
           'node_infrastructure_cost' AS metric, 'infrastructure' AS cost_column, c.cost_model_hash,
           c.markup_fraction,
           CAST(p.usage_date AS VARCHAR) || '|' || p.cluster_id || '|node_infrastructure_cost|' || p.node AS split_group,
           p.namespace || '|' || p.node || '|' || p.pod AS split_item,
           CAST(p.distribution_usage * c.cost_usd AS DECIMAL(38, 21)) AS numerator,
           CAST(n.capacity AS DECIMAL(38, 6)) AS denominator
    FROM cloud_costs AS c
    JOIN nodes AS n ON n.usage_date = c.usage_date AND n.cluster_id = c.cluster_id AND n.node = c.node
    JOIN pods AS p ON p.usage_date = c.usage_date AND p.cluster_id = c.cluster_id AND p.node = c.node
    WHERE n.capacity > 0
    UNION ALL
    SELECT n.usage_date, n.cluster_id, n.node,
           CASE WHEN n.node_role = 'worker' THEN 'Worker unallocated' ELSE 'Platform unallocated' END,
           'Infrastructure', 'node_infrastructure_cost', 'infrastructure', c.cost_model_hash, c.markup_fraction,
           CAST(n.usage_date AS VARCHAR) || '|' || n.cluster_id || '|node_infrastructure_cost|' || n.node,
           CASE WHEN n.node_role = 'worker' THEN 'Worker unallocated' ELSE 'Platform unallocated' END || '|' || n.node,
           CAST((n.capacity - n.used) * c.cost_usd AS DECIMAL(38, 21)), CAST(n.capacity AS DECIMAL(38, 6))
    FROM cloud_costs AS c
    JOIN nodes AS n ON n.usage_date = c.usage_date AND n.cluster_id = c.cluster_id AND n.node = c.node
    WHERE n.capacity > n.used
    UNION ALL
    SELECT c.usage_date, c.cluster_id, c.node, 'Worker unallocated', 'Infrastructure', 'node_infrastructure_cost',
           'infrastructure', c.cost_model_hash, c.markup_fraction,
           CAST(c.usage_date AS VARCHAR) || '|' || c.cluster_id || '|node_infrastructure_cost|' || c.node,
           'Worker unallocated|' || c.node, CAST(c.cost_usd AS DECIMAL(38, 21)), CAST(1 AS DECIMAL(38, 6))
    FROM cloud_costs AS c
    LEFT JOIN nodes AS n ON n.usage_date = c.usage_date AND n.cluster_id = c.cluster_id AND n.node = c.node
    WHERE n.node IS NULL OR n.capacity = 0
),
split_rows AS (
    SELECT * FROM spread_input WHERE denominator > 0
    UNION ALL SELECT * FROM cloud_input WHERE denominator > 0
    UNION ALL SELECT * FROM pvc_input WHERE denominator > 0
    UNION ALL SELECT * FROM vm_input WHERE denominator > 0
),
-- Each group's whole: its exact amount rounded half away from zero to 1e-9 (estimated in DOUBLE, decided by
-- exact decimal multiplication: DuckDB divides decimals in DOUBLE).
group_amounts AS (
    SELECT split_group, SUM(CAST(numerator AS DECIMAL(38, 21))) AS group_numerator, MAX(denominator) AS denominator
    FROM split_rows GROUP BY split_group
),
estimated_wholes AS (
    SELECT g.*, CAST(FLOOR(CAST(group_numerator AS DOUBLE) / CAST(denominator AS DOUBLE) / 0.000000001)
                     AS DECIMAL(38, 0)) AS estimated_units
    FROM group_amounts AS g
),
floored_wholes AS (
    SELECT e.*,
           CASE WHEN (estimated_units + 1) * 0.000000001 * denominator <= group_numerator THEN estimated_units + 1
                WHEN estimated_units * 0.000000001 * denominator <= group_numerator THEN estimated_units
                ELSE estimated_units - 1 END AS floor_units
    FROM estimated_wholes AS e
),
group_wholes AS (
    SELECT split_group,
           CAST((floor_units + CASE WHEN 2 * (group_numerator - floor_units * 0.000000001 * denominator)
                                         >= 0.000000001 * denominator THEN 1 ELSE 0 END) * 0.000000001
                AS DECIMAL(38, 9)) AS rounded_total
    FROM floored_wholes
),
k8s_split_input AS (
    SELECT r.*, w.rounded_total, CAST(NULL AS VARCHAR) AS split_subitem,
           CAST(0.000000001 AS DECIMAL(10, 9)) AS split_unit
    FROM split_rows AS r
    JOIN group_wholes AS w ON w.split_group = r.split_group
)
SELECT usage_date, cluster_id, node, namespace, cost_type, cost_column, metric, cost_model_hash, markup_fraction,
       amount, CAST(NULL AS VARCHAR) AS split_group, CAST(NULL AS DECIMAL(38, 21)) AS numerator,
       CAST(NULL AS DECIMAL(38, 6)) AS denominator, CAST(NULL AS DECIMAL(38, 9)) AS rounded_total
FROM pod_usage_parts
UNION ALL
SELECT usage_date, cluster_id, node, namespace, cost_type, cost_column, metric, cost_model_hash, markup_fraction,
       amount, NULL, NULL, NULL, NULL
FROM storage_usage_parts
UNION ALL
SELECT usage_date, cluster_id, node, namespace, cost_type, cost_column, metric, cost_model_hash, markup_fraction,
       amount, NULL, NULL, NULL, NULL
FROM network_parts
UNION ALL
SELECT usage_date, cluster_id, node, namespace, cost_type, cost_column, metric, cost_model_hash, markup_fraction,
       CAST(split_part AS DECIMAL(38, 15)), split_group, numerator, denominator, rounded_total
FROM split_parts
