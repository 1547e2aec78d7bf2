-- AWS cost of Kubernetes clusters' nodes, as the summary counts it (relation k8s_aws_moved): the Cost Explorer
-- cost tagged with the cluster's tag value, less what Kubernetes counts from node_infrastructure_cost, split over
-- the tenants of the cluster's namespaces by their Kubernetes cost (allocation columns say so).
SELECT cost_date, 'aws' AS resource_type, 'AWS' AS provider_name, 'AWS' AS publisher_name,
       'AWS' AS invoice_issuer_name, CAST(:cost_explorer_account AS VARCHAR) AS billing_account_id,
       CAST(NULL AS VARCHAR) AS billing_account_name, CAST(NULL AS VARCHAR) AS sub_account_id,
       CAST(NULL AS VARCHAR) AS sub_account_name, 'Usage' AS charge_category, CAST(NULL AS VARCHAR) AS charge_class,
       'Kubernetes cluster nodes (' || cluster_id || ')' AS charge_description, 'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       'Kubernetes nodes' AS service_name, 'Compute' AS service_category, 'Containers' AS service_subcategory,
       CAST(NULL AS VARCHAR) AS sku_id, CAST(NULL AS VARCHAR) AS sku_price_id,
       'Standard' AS pricing_category,
       CAST(NULL AS DECIMAL(38, 18)) AS pricing_quantity, CAST(NULL AS VARCHAR) AS pricing_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS consumed_quantity, CAST(NULL AS VARCHAR) AS consumed_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       cluster_id AS resource_id, cluster_id AS resource_name, 'Kubernetes Cluster' AS focus_resource_type,
       CAST(NULL AS VARCHAR) AS region_id, CAST(NULL AS VARCHAR) AS region_name,
       cost_usd AS billed_cost, cost_usd AS effective_cost, cost_usd AS list_cost, cost_usd AS contracted_cost,
       cost_usd AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       tenant_id, module_id, 'k8s_aws_nodes' AS attribution_rule,
       'k8s_aws_nodes' AS allocated_method_id,
       '{"basis":"Kubernetes total cost of the tenant''s namespaces","of":"AWS cost tagged with the cluster''s tag value, less node_infrastructure_cost"}' AS allocated_method_details,
       cluster_id AS allocated_resource_id, cluster_id AS allocated_resource_name,
       'metering/k8s_project_daily_cost:' || cluster_id AS source_record
FROM k8s_aws_moved
