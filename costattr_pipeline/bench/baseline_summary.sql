-- The baseline's daily tenant summary: every cost source by day, tenant, module and resource type.
CREATE TABLE metering.daily_tenant_summary AS
SELECT cost_date, tenant_id, module_id, resource_type, SUM(cost_usd) AS cost_usd
FROM (
    SELECT cost_date, tenant_id, module_id, 'aws' AS resource_type, CAST(amount_usd AS DECIMAL(38, 18)) AS cost_usd
    FROM metering.aws_cost_latest
    UNION ALL
    SELECT cost_date, tenant_id, NULL, 'snowflake', CAST(cost_usd AS DECIMAL(38, 18))
    FROM metering.snowflake_credit_daily
    UNION ALL
    SELECT usage_date, tenant_id, NULL, 'databricks', CAST(cost AS DECIMAL(38, 18))
    FROM metering.databricks_priced_usage WHERE cost IS NOT NULL
    UNION ALL
    SELECT cost_date, tenant_id, module_id, 'external_api', CAST(amount AS DECIMAL(38, 18))
    FROM metering.external_api_costs
) AS source_rows
GROUP BY cost_date, tenant_id, module_id, resource_type;
