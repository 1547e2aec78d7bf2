-- One provider's latest FOCUS charges of the window, attributed (the window's rows were deleted before).
-- Tenant and module: the custom column named in settings when it has a value, else the Tags key.
-- AWS rows of a billing account Cost Explorer also fetches are the same money: settings say which counts.
-- cost is in the charge's BillingCurrency; cost_usd converts it at the rate in force on its day (every
-- charge has one: the blocking check fx_rate_found ran before, on the same rows).
INSERT INTO metering.focus_cost_daily
WITH charges AS (
    SELECT c.*,
           CASE WHEN :use_tenant_column THEN NULLIF(TRIM(JSON_EXTRACT_STRING(c.custom_columns, :tenant_column_path)), '')
           END AS column_tenant,
           CASE WHEN :use_module_column THEN NULLIF(TRIM(JSON_EXTRACT_STRING(c.custom_columns, :module_column_path)), '')
           END AS column_module,
           NULLIF(TRIM(JSON_EXTRACT_STRING(c.tags, :tenant_tag_path)), '') AS tag_tenant,
           NULLIF(TRIM(JSON_EXTRACT_STRING(c.tags, :module_tag_path)), '') AS tag_module,
           o.counted AS overlap_counted,
           CAST(CASE WHEN :cost_column = 'BilledCost' THEN c.billed_cost ELSE c.effective_cost END AS DECIMAL(38, 18))
               AS cost,
           fx.rate_to_usd AS fx_rate_to_usd
    FROM metering.focus_charges_latest AS c
    LEFT JOIN config.focus_cost_explorer_accounts AS o
      ON c.resource_type IN ('focus_aws', 'focus_amazon_web_services') AND o.billing_account_id = c.billing_account_id
    JOIN fx_rates_to_usd AS fx
      ON fx.currency = c.billing_currency
     AND c.cost_date >= fx.effective_from AND (fx.effective_to IS NULL OR c.cost_date < fx.effective_to)
    WHERE c.cost_date >= :start_date AND c.cost_date < :end_date AND c.provider = :provider
)
SELECT cost_date,
       provider,
       resource_type,
       billing_account_id,
       COALESCE(column_tenant, tag_tenant) AS tenant_id,
       COALESCE(column_module, tag_module) AS module_id,
       CASE WHEN column_tenant IS NOT NULL THEN 'column'
            WHEN tag_tenant IS NOT NULL THEN 'tag'
            ELSE 'unattributed' END AS attribution_rule,
       :cost_column AS cost_column,
       CAST(cost * fx_rate_to_usd AS DECIMAL(38, 18)) AS cost_usd,
       COALESCE(overlap_counted, 'focus') = 'focus' AS counted,
       CASE WHEN overlap_counted = 'cost_explorer' THEN 'cost_explorer_counted'
            WHEN overlap_counted = 'focus' THEN 'focus_counted' END AS overlap,
       load_id,
       source_file,
       source_row,
       billing_currency AS currency,
       cost,
       fx_rate_to_usd
FROM charges
