-- What the AWS total leaves to Kubernetes: per day and cluster on AWS whose nodes' tagged cost Cost Explorer
-- has, minus the infrastructure raw cost Kubernetes already counts (the same money), so the reconcile check
-- proves AWS in the summary = Cost Explorer - that cost, and nothing is counted twice.
SELECT t.cost_date, CAST(NULL AS VARCHAR) AS tenant_id, CAST(NULL AS VARCHAR) AS module_id, 'aws' AS resource_type,
       -i.infrastructure AS cost_usd
FROM k8s_aws_tagged AS t
JOIN k8s_infrastructure_counted AS i ON i.cost_date = t.cost_date AND i.cluster_id = t.cluster_id
