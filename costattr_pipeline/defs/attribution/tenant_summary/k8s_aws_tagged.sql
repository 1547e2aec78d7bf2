-- The relation k8s_aws_tagged: per day and Kubernetes cluster on AWS (k8s_aws_clusters), the Cost Explorer cost
-- tagged with the tenant tag value its nodes carry.
SELECT a.cost_date, k.cluster_id, SUM(CAST(a.amount_usd AS DECIMAL(38, 18))) AS tagged
FROM metering.v_aws_cost_daily AS a
JOIN k8s_aws_clusters AS k ON k.tag_value = a.tenant_id
WHERE a.cost_date >= :start_date AND a.cost_date < :end_date AND a.amount_usd IS NOT NULL
  AND a.cost_date NOT IN (SELECT cost_date FROM cost_explorer_replaced_days)
GROUP BY a.cost_date, k.cluster_id
