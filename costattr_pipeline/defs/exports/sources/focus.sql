-- FOCUS datasets: every counted charge as the provider wrote it, with costattr's attribution; amounts and
-- unit prices in USD at the charge's rate (the export's BillingCurrency is USD). The charges come with every
-- FOCUS column, so they are stored whole, as FOCUS rows (focus_export__rows.sql, metering.focus_export_rows).
SELECT d.cost_date, d.resource_type, l.provider AS provider_name,
       COALESCE(l.publisher_name, l.provider) AS publisher_name,
       COALESCE(l.invoice_issuer_name, l.provider) AS invoice_issuer_name, l.billing_account_id,
       l.billing_account_name, l.sub_account_id, l.sub_account_name, l.charge_category, l.charge_class,
       l.charge_description, l.charge_frequency, l.charge_period_start, l.charge_period_end, l.billing_period_start,
       l.billing_period_end, COALESCE(l.service_name, 'Unknown') AS service_name,
       COALESCE(l.service_category, 'Other') AS service_category,
       COALESCE(l.service_subcategory, 'Other (' || COALESCE(l.service_category, 'Other') || ')') AS service_subcategory,
       l.sku_id, l.sku_price_id, l.pricing_category, l.pricing_quantity, l.pricing_unit, l.consumed_quantity,
       l.consumed_unit, CAST(l.list_unit_price * d.fx_rate_to_usd AS DECIMAL(38, 18)) AS list_unit_price,
       CAST(l.contracted_unit_price * d.fx_rate_to_usd AS DECIMAL(38, 18)) AS contracted_unit_price,
       l.resource_id, l.resource_name, l.focus_resource_type, l.region_id, l.region_name,
       CAST(l.billed_cost * d.fx_rate_to_usd AS DECIMAL(38, 18)) AS billed_cost,
       CAST(l.effective_cost * d.fx_rate_to_usd AS DECIMAL(38, 18)) AS effective_cost,
       CAST(COALESCE(l.list_cost, l.billed_cost) * d.fx_rate_to_usd AS DECIMAL(38, 18)) AS list_cost,
       CAST(COALESCE(l.contracted_cost, l.billed_cost) * d.fx_rate_to_usd AS DECIMAL(38, 18)) AS contracted_cost,
       d.cost_usd AS counted_cost, l.tags,
       d.tenant_id, d.module_id, d.attribution_rule,
       CAST(NULL AS VARCHAR) AS allocated_method_id, CAST(NULL AS VARCHAR) AS allocated_method_details,
       CAST(NULL AS VARCHAR) AS allocated_resource_id, CAST(NULL AS VARCHAR) AS allocated_resource_name,
       l.source_file || ':' || CAST(l.source_row AS VARCHAR) AS source_record,
       CAST(NULL AS VARCHAR) AS rate_card_version
FROM metering.focus_cost_daily AS d
JOIN metering.focus_charges AS l
  ON l.load_id = d.load_id AND l.source_file = d.source_file AND l.source_row = d.source_row
WHERE d.cost_date >= :start_date AND d.cost_date < :end_date AND d.counted
