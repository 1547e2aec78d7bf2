-- AWS's own total per day: every Cost Explorer row the summary counts, the node cost of Kubernetes clusters
-- on AWS included (aws.sql leaves it out, aws_on_kubernetes.sql moves it to the clusters' namespaces), so the
-- reconcile check proves that move lost or doubled nothing.
SELECT cost_date, tenant_id, module_id, 'aws' AS resource_type,
       CAST(amount_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.v_aws_cost_daily
WHERE cost_date >= :start_date AND cost_date < :end_date AND amount_usd IS NOT NULL
  AND cost_date NOT IN (SELECT cost_date FROM cost_explorer_replaced_days)
