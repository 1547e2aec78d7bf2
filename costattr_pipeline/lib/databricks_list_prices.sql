-- Live reader, Databricks SQL: the list prices whose window overlaps the usage window
-- [:start_date, :end_date). price_end_time NULL is an open window.
SELECT price_start_time,
       price_end_time,
       account_id,
       sku_name,
       cloud,
       currency_code,
       usage_unit,
       to_json(pricing) AS pricing
FROM system.billing.list_prices
WHERE price_start_time < :end_date
  AND (price_end_time IS NULL OR price_end_time > :start_date)
ORDER BY sku_name, cloud, price_start_time
