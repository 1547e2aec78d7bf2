-- Kubernetes' total per day, read from the table itself (not through the tenant joins), so the reconcile
-- check proves the joins neither lost nor doubled a namespace's cost.
SELECT usage_date AS cost_date, CAST(NULL AS VARCHAR) AS tenant_id, CAST(NULL AS VARCHAR) AS module_id,
       'kubernetes' AS resource_type, CAST(total_cost AS DECIMAL(38, 18)) AS cost_usd
FROM metering.k8s_project_daily_cost
WHERE usage_date >= :start_date AND usage_date < :end_date
