-- Kubernetes: per day, cluster, node, namespace and cost type, the namespace's total cost (raw + markup +
-- distributed), attributed exactly as daily_tenant_summary does (k8s_namespace_labels, k8s_namespace_map bound
-- at run time, so the tenant is the one the namespace had when the day was exported).
SELECT c.usage_date AS cost_date, c.cluster_id, c.node, c.namespace, c.cost_type,
       CAST(c.total_cost AS DECIMAL(38, 18)) AS total_cost, c.distributed_cost <> 0 AS distributed,
       COALESCE(m.tenant_id, l.label_tenant) AS tenant_id, l.label_module AS module_id,
       CASE WHEN m.tenant_id IS NOT NULL THEN 'k8s_namespace_map'
            WHEN l.label_tenant IS NOT NULL THEN 'k8s_pod_label'
            ELSE 'unattributed' END AS attribution_rule
FROM metering.k8s_project_daily_cost AS c
LEFT JOIN k8s_namespace_labels AS l
  ON l.usage_date = c.usage_date AND l.cluster_id = c.cluster_id AND l.namespace = c.namespace
LEFT JOIN k8s_namespace_map AS m ON m.namespace = c.namespace
WHERE c.usage_date >= :start_date AND c.usage_date < :end_date
