-- The Databricks data products that cost most in the month (NULL: untagged), in each price's currency.
SELECT product_id, currency, SUM(CAST(cost AS DECIMAL(38, 18))) AS cost
FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date AND cost IS NOT NULL
GROUP BY product_id, currency
ORDER BY cost DESC, product_id NULLS LAST, currency
LIMIT :top
