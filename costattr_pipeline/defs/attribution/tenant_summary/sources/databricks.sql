-- Databricks: priced usage by the tenant tag, in USD (a list price in another currency converted at the
-- rate of the day). A row without a price or a rate has no USD cost yet (its own blocking check fails);
-- it is left out here rather than counted as zero or in the wrong currency.
SELECT usage_date AS cost_date, tenant_id, CAST(NULL AS VARCHAR) AS module_id, 'databricks' AS resource_type,
       CAST(cost_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date AND cost_usd IS NOT NULL
