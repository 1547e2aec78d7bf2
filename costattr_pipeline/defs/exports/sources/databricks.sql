-- Databricks: every priced usage record in USD. The list price is kept per unit only when it is in USD (a
-- price in another currency is converted with the cost, so its unit price is not repeated).
SELECT usage_date AS cost_date, COALESCE(account_id, 'unknown') AS billing_account_id, workspace_id, sku_name,
       record_type, CAST(usage_quantity AS DECIMAL(38, 18)) AS usage_quantity,
       COALESCE(usage_unit, 'DBU') AS usage_unit,
       CAST(CASE WHEN currency = 'USD' THEN unit_price END AS DECIMAL(38, 18)) AS list_unit_price,
       CAST(cost_usd AS DECIMAL(38, 18)) AS cost_usd, tenant_id, record_id
FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date AND cost_usd IS NOT NULL
