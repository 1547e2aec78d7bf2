-- AWS: the latest Cost Explorer rows of one grouping per day (metering.v_aws_cost_daily), in USD,
-- exactly as unattributed_costs: rows of different groupings are never added. A day whose AWS cost a
-- FOCUS dataset counts instead (cost_explorer_replaced_days, bound at run time) is left out, and so is an
-- amount without a USD rate (the landing's blocking check fails), never counted unconverted.
-- The cost tagged with a Kubernetes cluster's tenant tag value (settings kubernetes.clusters, relation
-- k8s_aws_clusters) is its nodes' cost: aws_on_kubernetes.sql moves it to the cluster's namespaces.
SELECT cost_date, tenant_id, module_id, 'aws' AS resource_type,
       CAST(amount_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.v_aws_cost_daily AS a
WHERE cost_date >= :start_date AND cost_date < :end_date AND amount_usd IS NOT NULL
  AND cost_date NOT IN (SELECT cost_date FROM cost_explorer_replaced_days)
  AND NOT EXISTS (SELECT 1 FROM k8s_aws_clusters AS k WHERE k.tag_value = a.tenant_id)
