-- The Databricks data products that cost most in the month (NULL: untagged), in USD at each day's rate
-- (usage without a price or a rate has no USD cost and fails its own checks).
SELECT product_id, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS cost_usd
FROM metering.databricks_priced_usage
WHERE usage_date >= :start_date AND usage_date < :end_date AND cost_usd IS NOT NULL
GROUP BY product_id
ORDER BY cost_usd DESC, product_id NULLS LAST
LIMIT :top
