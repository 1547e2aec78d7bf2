-- Validated list prices (table `prices`) in the landing shape of metering.databricks_list_prices.
-- The JSON `pricing` is kept as text and its two prices as exact decimals.
SELECT price_start_time,
       price_end_time,
       NULLIF(trim(account_id), '') AS account_id,
       trim(sku_name) AS sku_name,
       NULLIF(upper(trim(cloud)), '') AS cloud,
       upper(trim(currency_code)) AS currency_code,
       NULLIF(trim(usage_unit), '') AS usage_unit,
       pricing,
       CAST(trim(default_text) AS DECIMAL(20, 10)) AS default_price,
       CAST(trim(effective_list_text) AS DECIMAL(20, 10)) AS effective_list_price
FROM prices
ORDER BY _costattr_row
