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

-- The baseline's cost items: each data product's Databricks cost per month, in cents half away from zero.
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE app.cost_items AS
SELECT 'data_product' AS entity_type, product_id AS entity_id, 'INFRASTRUCTURE' AS cost_center,
       'Databricks Infra Cost' AS title, start_month, start_month AS end_month,
       CAST(SIGN(amount) * FLOOR(ABS(amount) * 100 + 0.5) AS BIGINT) AS amount_cents, currency
FROM (
    SELECT product_id, CAST(DATE_TRUNC('month', usage_date) AS DATE) AS start_month, currency,
           SUM(CAST(cost AS DECIMAL(38, 18))) AS amount
    FROM metering.databricks_priced_usage
    WHERE product_id IS NOT NULL AND cost IS NOT NULL
    GROUP BY ALL
) AS month_totals
WHERE amount <> 0;
