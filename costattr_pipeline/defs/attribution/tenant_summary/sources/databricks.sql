-- Databricks: priced usage by the tenant tag. A row without a price has no cost yet (its own
-- asset check fails); it is left out here rather than counted as zero.
SELECT usage_date AS cost_date, tenant_id, CAST(NULL AS VARCHAR) AS module_id, 'databricks' AS resource_type,
       CAST(cost AS DECIMAL(38, 18)) AS cost_usd
FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date AND cost IS NOT NULL
