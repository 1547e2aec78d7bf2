-- Databricks priced usage (contract section 4), replacing the run's window.
-- Unit price = pricing.effective_list.default, else pricing.default, of the best list price in
-- force at usage_start_time; cost = usage_quantity x unit price, exact. A record without a price
-- keeps NULL price and cost (never zero) and fails the asset check. Retractions (negative quantities)
-- are kept as records, so every sum nets them out. cost is in the price's currency; cost_usd is cost
-- at the USD rate in force on the usage day (to 18 decimals).
DELETE FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date;

INSERT INTO metering.databricks_priced_usage
WITH usage_rows AS (
    SELECT *
    FROM metering.databricks_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date
),
prices AS (
    -- the best price of each segment (metering.databricks_price_segments, databricks_priced_usage__tables.sql)
    SELECT sku_name,
           cloud,
           account_id,
           segment_start,
           segment_end,
           currency_code,
           COALESCE(effective_list_price, default_price) AS unit_price,
           CASE WHEN effective_list_price IS NOT NULL THEN 'effective_list' ELSE 'default' END AS price_source
    FROM metering.databricks_price_segments
    QUALIFY ROW_NUMBER() OVER (PARTITION BY sku_name, cloud, account_id, segment_start
                               ORDER BY match_rank, currency_code) = 1
)
SELECT u.usage_date,
       NULLIF(TRIM(JSON_EXTRACT_STRING(u.custom_tags, :product_path)), '') AS product_id,
       NULLIF(TRIM(JSON_EXTRACT_STRING(u.custom_tags, :tenant_path)), '') AS tenant_id,
       u.workspace_id,
       u.account_id,
       u.cloud,
       u.sku_name,
       u.usage_unit,
       u.usage_quantity,
       CAST(p.unit_price AS DECIMAL(20, 10)) AS unit_price,
       CAST(u.usage_quantity * p.unit_price AS DECIMAL(38, 18)) AS cost,
       p.currency_code AS currency,
       p.price_source,
       u.record_id,
       u.record_type,
       u.usage_start_time,
       fx.rate_to_usd AS fx_rate_to_usd,
       CAST(CAST(u.usage_quantity * p.unit_price AS DECIMAL(38, 18)) * fx.rate_to_usd AS DECIMAL(38, 18)) AS cost_usd
FROM usage_rows AS u
LEFT JOIN prices AS p
  ON p.sku_name = u.sku_name
 AND p.cloud IS NOT DISTINCT FROM u.cloud
 AND p.account_id IS NOT DISTINCT FROM u.account_id
 AND p.segment_start <= u.usage_start_time
 AND (p.segment_end IS NULL OR u.usage_start_time < p.segment_end)
-- The USD rate in force on the usage day (settings.yaml fx_to_usd; USD is 1). No rate: cost_usd is NULL
-- and the blocking check fx_rate_found names the currency and the day.
LEFT JOIN fx_rates_to_usd AS fx
  ON fx.currency = p.currency_code
 AND fx.effective_from <= u.usage_date
 AND (fx.effective_to IS NULL OR u.usage_date < fx.effective_to);
