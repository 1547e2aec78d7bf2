-- Kubernetes: per day, cluster, node, namespace and cost type, the namespace's total cost (raw + markup +
-- distributed), attributed exactly as daily_tenant_summary does (k8s_namespace_labels, k8s_namespace_map bound
-- at run time). Rows that gave or received distributed cost carry the allocation columns.
SELECT c.usage_date AS cost_date, 'kubernetes' AS resource_type, 'Kubernetes' AS provider_name,
       'Kubernetes' AS publisher_name, 'Kubernetes' AS invoice_issuer_name, c.cluster_id AS billing_account_id,
       c.cluster_id AS billing_account_name, c.namespace AS sub_account_id,
       c.namespace AS sub_account_name, 'Usage' AS charge_category, CAST(NULL AS VARCHAR) AS charge_class,
       'Cluster cost by cost model (' || c.cost_type || ')' AS charge_description, 'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       'Kubernetes' AS service_name, 'Compute' AS service_category, 'Containers' AS service_subcategory,
       CAST(NULL AS VARCHAR) AS sku_id, CAST(NULL AS VARCHAR) AS sku_price_id,
       'Standard' AS pricing_category,
       CAST(NULL AS DECIMAL(38, 18)) AS pricing_quantity, CAST(NULL AS VARCHAR) AS pricing_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS consumed_quantity, CAST(NULL AS VARCHAR) AS consumed_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       c.node AS resource_id, c.node AS resource_name, 'Kubernetes Namespace' AS focus_resource_type,
       CAST(NULL AS VARCHAR) AS region_id, CAST(NULL AS VARCHAR) AS region_name,
       CAST(c.total_cost AS DECIMAL(38, 18)) AS billed_cost, CAST(c.total_cost AS DECIMAL(38, 18)) AS effective_cost,
       CAST(c.total_cost AS DECIMAL(38, 18)) AS list_cost, CAST(c.total_cost AS DECIMAL(38, 18)) AS contracted_cost,
       CAST(c.total_cost AS DECIMAL(38, 18)) AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       COALESCE(m.tenant_id, l.label_tenant) AS tenant_id, l.label_module AS module_id,
       CASE WHEN m.tenant_id IS NOT NULL THEN 'k8s_namespace_map'
            WHEN l.label_tenant IS NOT NULL THEN 'k8s_pod_label'
            ELSE 'unattributed' END AS attribution_rule,
       CASE WHEN c.distributed_cost <> 0 THEN 'k8s_distribution' END AS allocated_method_id,
       CASE WHEN c.distributed_cost <> 0
            THEN '{"basis":"effective usage of the user namespaces (cost model distribution)","of":"platform, Worker unallocated and unattributed storage and network cost of the cluster and day"}'
       END AS allocated_method_details,
       CASE WHEN c.distributed_cost <> 0 THEN c.cluster_id END AS allocated_resource_id,
       CASE WHEN c.distributed_cost <> 0 THEN c.cluster_id END AS allocated_resource_name,
       'metering/k8s_project_daily_cost:' || c.cluster_id || '/' || COALESCE(c.node, '') || '/' || c.namespace
           || '/' || c.cost_type AS source_record
FROM metering.k8s_project_daily_cost AS c
LEFT JOIN k8s_namespace_labels AS l
  ON l.usage_date = c.usage_date AND l.cluster_id = c.cluster_id AND l.namespace = c.namespace
LEFT JOIN k8s_namespace_map AS m ON m.namespace = c.namespace
WHERE c.usage_date >= :start_date AND c.usage_date < :end_date
