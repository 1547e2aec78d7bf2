-- Databricks: every priced usage record in USD, at the list price in force (ListUnitPrice x quantity = cost
-- when the price is in USD; a price in another currency is converted, so its unit price is not repeated).
SELECT usage_date AS cost_date, 'databricks' AS resource_type, 'Databricks' AS provider_name,
       'Databricks' AS publisher_name, 'Databricks' AS invoice_issuer_name,
       COALESCE(account_id, 'unknown') AS billing_account_id, CAST(NULL AS VARCHAR) AS billing_account_name,
       workspace_id AS sub_account_id, workspace_id AS sub_account_name, 'Usage' AS charge_category,
       CAST(NULL AS VARCHAR) AS charge_class, sku_name || ' (' || record_type || ')' AS charge_description,
       'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       'Databricks' AS service_name, 'Analytics' AS service_category, 'Data Processing' AS service_subcategory,
       sku_name AS sku_id, sku_name AS sku_price_id, 'Standard' AS pricing_category,
       CAST(usage_quantity AS DECIMAL(38, 18)) AS pricing_quantity, COALESCE(usage_unit, 'DBU') AS pricing_unit,
       CAST(usage_quantity AS DECIMAL(38, 18)) AS consumed_quantity, COALESCE(usage_unit, 'DBU') AS consumed_unit,
       CAST(CASE WHEN currency = 'USD' THEN unit_price END AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       CAST(NULL AS VARCHAR) AS resource_id, CAST(NULL AS VARCHAR) AS resource_name,
       CAST(NULL AS VARCHAR) AS focus_resource_type, CAST(NULL AS VARCHAR) AS region_id,
       CAST(NULL AS VARCHAR) AS region_name,
       CAST(cost_usd AS DECIMAL(38, 18)) AS billed_cost, CAST(cost_usd AS DECIMAL(38, 18)) AS effective_cost,
       CAST(cost_usd AS DECIMAL(38, 18)) AS list_cost, CAST(cost_usd AS DECIMAL(38, 18)) AS contracted_cost,
       CAST(cost_usd AS DECIMAL(38, 18)) AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       tenant_id, CAST(NULL AS VARCHAR) AS module_id,
       CASE WHEN tenant_id IS NULL THEN 'unattributed' ELSE 'tag' END AS attribution_rule,
       CAST(NULL AS VARCHAR) AS allocated_method_id, CAST(NULL AS VARCHAR) AS allocated_method_details,
       CAST(NULL AS VARCHAR) AS allocated_resource_id, CAST(NULL AS VARCHAR) AS allocated_resource_name,
       'databricks/usage:' || record_id AS source_record
FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date AND cost_usd IS NOT NULL
