-- The relation k8s_infrastructure_counted: per day and Kubernetes cluster on AWS (k8s_aws_clusters), the cloud
-- cost of its nodes that Kubernetes already counts (infrastructure_raw_cost, from node_infrastructure_cost).
SELECT usage_date AS cost_date, cluster_id, SUM(CAST(infrastructure_raw_cost AS DECIMAL(38, 18))) AS infrastructure
FROM metering.k8s_project_daily_cost
WHERE usage_date >= :start_date AND usage_date < :end_date
  AND cluster_id IN (SELECT cluster_id FROM k8s_aws_clusters)
GROUP BY usage_date, cluster_id
