-- Cost Explorer: one row per latest group of the day (tenant x service), exactly as the summary counts it, in
-- USD (an amount without a USD rate is left out, as the summary leaves it out). The cost tagged with a
-- Kubernetes cluster's tag value (k8s_aws_clusters) is exported as the summary counts it: aws_on_kubernetes.sql.
SELECT cost_date, CAST(:cost_explorer_account AS VARCHAR) AS billing_account_id, service, grouped_by, tenant_id,
       module_id, CAST(amount_usd AS DECIMAL(38, 18)) AS amount_usd, source_name
FROM metering.v_aws_cost_daily AS a
WHERE cost_date >= :start_date AND cost_date < :end_date AND amount_usd IS NOT NULL
  AND cost_date NOT IN (SELECT cost_date FROM cost_explorer_replaced_days)
  AND NOT EXISTS (SELECT 1 FROM k8s_aws_clusters AS k WHERE k.tag_value = a.tenant_id)
