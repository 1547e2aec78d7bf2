-- Kubernetes namespace costs as FOCUS rows. Rows that gave or received distributed cost carry the allocation
-- columns.
SELECT cost_date, 'kubernetes' AS resource_type, 'Kubernetes' AS provider_name,
       'Kubernetes' AS publisher_name, 'Kubernetes' AS invoice_issuer_name, cluster_id AS billing_account_id,
       cluster_id AS billing_account_name, namespace AS sub_account_id,
       namespace AS sub_account_name, 'Usage' AS charge_category, CAST(NULL AS VARCHAR) AS charge_class,
       'Cluster cost by cost model (' || cost_type || ')' AS charge_description, 'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       'Kubernetes' AS service_name, 'Compute' AS service_category, 'Containers' AS service_subcategory,
       CAST(NULL AS VARCHAR) AS sku_id, CAST(NULL AS VARCHAR) AS sku_price_id,
       'Standard' AS pricing_category,
       CAST(NULL AS DECIMAL(38, 18)) AS pricing_quantity, CAST(NULL AS VARCHAR) AS pricing_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS consumed_quantity, CAST(NULL AS VARCHAR) AS consumed_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       node AS resource_id, node AS resource_name, 'Kubernetes Namespace' AS focus_resource_type,
       CAST(NULL AS VARCHAR) AS region_id, CAST(NULL AS VARCHAR) AS region_name,
       total_cost AS billed_cost, total_cost AS effective_cost, total_cost AS list_cost, total_cost AS contracted_cost,
       total_cost AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       tenant_id, module_id, attribution_rule,
       CASE WHEN distributed THEN 'k8s_distribution' END AS allocated_method_id,
       CASE WHEN distributed
            THEN '{"basis":"effective usage of the user namespaces (cost model distribution)","of":"platform, Worker unallocated and unattributed storage and network cost of the cluster and day"}'
       END AS allocated_method_details,
       CASE WHEN distributed THEN cluster_id END AS allocated_resource_id,
       CASE WHEN distributed THEN cluster_id END AS allocated_resource_name,
       'metering/k8s_project_daily_cost:' || cluster_id || '/' || COALESCE(node, '') || '/' || namespace
           || '/' || cost_type AS source_record, CAST(NULL AS VARCHAR) AS rate_card_version
FROM metering.focus_export_kubernetes
