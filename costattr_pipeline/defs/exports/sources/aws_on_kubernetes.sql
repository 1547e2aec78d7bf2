-- AWS cost of Kubernetes clusters' nodes, as the summary counts it (relation k8s_aws_moved): the Cost Explorer
-- cost tagged with the cluster's tag value, less what Kubernetes counts from node_infrastructure_cost, split over
-- the tenants of the cluster's namespaces by their Kubernetes cost.
SELECT cost_date, CAST(:cost_explorer_account AS VARCHAR) AS billing_account_id, cluster_id, tenant_id, module_id,
       CAST(cost_usd AS DECIMAL(38, 18)) AS cost_usd
FROM k8s_aws_moved
