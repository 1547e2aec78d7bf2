-- Every cost of each day of the month, per source (the daily tenant summary).
SELECT cost_date, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS cost_usd
FROM metering.v_daily_tenant_summary
WHERE cost_date >= :start_date AND cost_date < :end_date
GROUP BY cost_date, resource_type
ORDER BY cost_date, resource_type
