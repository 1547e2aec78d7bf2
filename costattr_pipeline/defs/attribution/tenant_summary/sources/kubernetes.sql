-- Kubernetes: each namespace's total cost per day and cluster (raw + markup + distributed, both cost types).
-- Its tenant: tenants.yaml `namespaces` (k8s_namespace_map), else the pods' tenant label (k8s_namespace_labels,
-- both bound at run time); its module: the pods' module label. Unmapped namespaces, and what distribution
-- leaves on Worker/Platform unallocated and Storage/Network unattributed, have no tenant.
SELECT c.usage_date AS cost_date, COALESCE(m.tenant_id, l.label_tenant) AS tenant_id, l.label_module AS module_id,
       'kubernetes' AS resource_type, CAST(c.total_cost AS DECIMAL(38, 18)) AS cost_usd
FROM metering.k8s_project_daily_cost AS c
LEFT JOIN k8s_namespace_labels AS l
  ON l.usage_date = c.usage_date AND l.cluster_id = c.cluster_id AND l.namespace = c.namespace
LEFT JOIN k8s_namespace_map AS m ON m.namespace = c.namespace
WHERE c.usage_date >= :start_date AND c.usage_date < :end_date
