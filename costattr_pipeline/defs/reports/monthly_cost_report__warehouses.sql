-- The Snowflake warehouses that cost most in the month (unpriced credits count as no cost).
SELECT warehouse_name,
       SUM(CAST(credits AS DECIMAL(38, 12))) AS credits,
       SUM(CAST(COALESCE(cost_usd, 0) AS DECIMAL(38, 6))) AS cost_usd
FROM metering.v_snowflake_credit_daily
WHERE cost_date >= :start_date AND cost_date < :end_date
GROUP BY warehouse_name
ORDER BY cost_usd DESC, warehouse_name
LIMIT :top
