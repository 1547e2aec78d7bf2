-- The day's whole cost (every source and tenant, unattributed included); rounded to cents in Python
-- with the project's one rounding rule (half away from zero).
SELECT cost_date, SUM(CAST(cost_usd AS DECIMAL(38, 12))) AS whole_cost_usd
FROM metering.v_daily_tenant_summary
WHERE cost_date >= :start_date AND cost_date < :end_date
GROUP BY cost_date
ORDER BY cost_date
