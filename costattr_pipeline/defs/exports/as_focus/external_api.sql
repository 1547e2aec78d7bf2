-- External API costs as charged by the providers, in USD: one row per cost line (no quantity given: 1 Day).
-- A cost without a USD rate is left out, as the summary leaves it out (its own blocking check fails).
SELECT cost_date, 'external_api' AS resource_type, provider AS provider_name, provider AS publisher_name,
       provider AS invoice_issuer_name, 'unknown' AS billing_account_id, CAST(NULL AS VARCHAR) AS billing_account_name,
       CAST(NULL AS VARCHAR) AS sub_account_id, CAST(NULL AS VARCHAR) AS sub_account_name,
       'Usage' AS charge_category, CAST(NULL AS VARCHAR) AS charge_class,
       provider || ' API usage (passed through to the tenant)' AS charge_description, 'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       provider || ' API' AS service_name, 'Other' AS service_category, 'Other (Other)' AS service_subcategory,
       provider || '-api' AS sku_id, provider || '-api' AS sku_price_id, 'Standard' AS pricing_category,
       CAST(1 AS DECIMAL(38, 18)) AS pricing_quantity, 'Day' AS pricing_unit,
       CAST(1 AS DECIMAL(38, 18)) AS consumed_quantity, 'Day' AS consumed_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       CAST(NULL AS VARCHAR) AS resource_id, CAST(NULL AS VARCHAR) AS resource_name,
       CAST(NULL AS VARCHAR) AS focus_resource_type, CAST(NULL AS VARCHAR) AS region_id,
       CAST(NULL AS VARCHAR) AS region_name,
       CAST(amount_usd AS DECIMAL(38, 18)) AS billed_cost, CAST(amount_usd AS DECIMAL(38, 18)) AS effective_cost,
       CAST(amount_usd AS DECIMAL(38, 18)) AS list_cost, CAST(amount_usd AS DECIMAL(38, 18)) AS contracted_cost,
       CAST(amount_usd AS DECIMAL(38, 18)) AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       tenant_id, module_id, CASE WHEN tenant_id IS NULL THEN 'unattributed' ELSE 'provided' END AS attribution_rule,
       CAST(NULL AS VARCHAR) AS allocated_method_id, CAST(NULL AS VARCHAR) AS allocated_method_details,
       CAST(NULL AS VARCHAR) AS allocated_resource_id, CAST(NULL AS VARCHAR) AS allocated_resource_name,
       'usage/external_api_costs' AS source_record
FROM metering.v_external_api_costs
WHERE cost_date >= :start_date AND cost_date < :end_date AND amount_usd IS NOT NULL
