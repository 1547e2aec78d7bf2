-- The relation k8s_aws_moved: AWS cost of Kubernetes clusters' nodes (OCP on AWS). The Cost Explorer rows whose tenant tag is the value a
-- cluster's nodes carry (settings kubernetes.clusters, relation k8s_aws_clusters) are not a tenant of their own.
-- Kubernetes already counts the part of that money it got from kubernetes/node_infrastructure_cost (the
-- cluster's infrastructure_raw_cost of the day, I); the rest, tagged AWS cost X - I (all of X without that
-- export), goes to the tenants and modules of the cluster's namespaces, in proportion to their Kubernetes total
-- cost that day (tenant as in kubernetes.sql; the cluster's unattributed part stays unattributed). Split by the
-- largest-remainder rule, first to 1e-9 USD, then the rest below 1e-9 to 1e-18, so the parts add up to X - I
-- exactly. A day the cluster has no cost: X - I is unattributed. aws_on_kubernetes_total.sql counts -I.
WITH moved AS (
    SELECT t.cost_date, t.cluster_id, t.tagged - COALESCE(i.infrastructure, 0) AS amount
    FROM k8s_aws_tagged AS t
    LEFT JOIN k8s_infrastructure_counted AS i ON i.cost_date = t.cost_date AND i.cluster_id = t.cluster_id
),
moved_parts AS (
    SELECT cost_date, cluster_id, amount,
           CAST(CAST(FLOOR(amount * 1000000000) AS DECIMAL(38, 0)) * CAST(0.000000001 AS DECIMAL(10, 9))
                AS DECIMAL(38, 9)) AS nano
    FROM moved
),
weights AS (
    SELECT c.usage_date AS cost_date, c.cluster_id, COALESCE(m.tenant_id, l.label_tenant) AS tenant_id,
           l.label_module AS module_id, CAST(SUM(c.total_cost) AS DECIMAL(38, 15)) AS weight
    FROM metering.k8s_project_daily_cost AS c
    LEFT JOIN k8s_namespace_labels AS l
      ON l.usage_date = c.usage_date AND l.cluster_id = c.cluster_id AND l.namespace = c.namespace
    LEFT JOIN k8s_namespace_map AS m ON m.namespace = c.namespace
    WHERE c.usage_date >= :start_date AND c.usage_date < :end_date
      AND c.cluster_id IN (SELECT cluster_id FROM k8s_aws_clusters)
    GROUP BY c.usage_date, c.cluster_id, COALESCE(m.tenant_id, l.label_tenant), l.label_module
),
weight_totals AS (
    SELECT cost_date, cluster_id, SUM(weight) AS total_weight
    FROM weights
    GROUP BY cost_date, cluster_id
    HAVING SUM(weight) > 0
),
nano_input AS (
    SELECT w.cost_date, w.cluster_id, w.tenant_id, w.module_id,
           CAST(w.cost_date AS VARCHAR) || '|' || w.cluster_id AS split_group,
           w.tenant_id AS split_item, w.module_id AS split_subitem,
           CAST(p.nano * w.weight AS DECIMAL(38, 24)) AS numerator, t.total_weight AS denominator,
           p.nano AS rounded_total, CAST(0.000000001 AS DECIMAL(10, 9)) AS split_unit
    FROM weights AS w
    JOIN weight_totals AS t ON t.cost_date = w.cost_date AND t.cluster_id = w.cluster_id
    JOIN moved_parts AS p ON p.cost_date = w.cost_date AND p.cluster_id = w.cluster_id
),
fine_input AS (
    SELECT w.cost_date, w.cluster_id, w.tenant_id, w.module_id,
           CAST(w.cost_date AS VARCHAR) || '|' || w.cluster_id AS split_group,
           w.tenant_id AS split_item, w.module_id AS split_subitem,
           CAST((p.amount - p.nano) * w.weight AS DECIMAL(38, 33)) AS numerator, t.total_weight AS denominator,
           CAST(p.amount - p.nano AS DECIMAL(38, 18)) AS rounded_total,
           CAST(0.000000000000000001 AS DECIMAL(19, 18)) AS split_unit
    FROM weights AS w
    JOIN weight_totals AS t ON t.cost_date = w.cost_date AND t.cluster_id = w.cluster_id
    JOIN moved_parts AS p ON p.cost_date = w.cost_date AND p.cluster_id = w.cluster_id
)
SELECT cost_date, cluster_id, tenant_id, module_id, CAST(split_part AS DECIMAL(38, 18)) AS cost_usd
FROM k8s_moved_nano_split
UNION ALL
SELECT cost_date, cluster_id, tenant_id, module_id, CAST(split_part AS DECIMAL(38, 18)) AS cost_usd
FROM k8s_moved_fine_split
UNION ALL
SELECT p.cost_date, p.cluster_id, CAST(NULL AS VARCHAR) AS tenant_id, CAST(NULL AS VARCHAR) AS module_id,
       p.amount AS cost_usd
FROM moved_parts AS p
WHERE NOT EXISTS (SELECT 1 FROM weight_totals AS t WHERE t.cost_date = p.cost_date AND t.cluster_id = p.cluster_id)
