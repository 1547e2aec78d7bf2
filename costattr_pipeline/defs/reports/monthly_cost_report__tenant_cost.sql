-- The month's cost of each tenant (NULL: unattributed), per source.
SELECT tenant_id, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS cost_usd
FROM metering.v_daily_tenant_summary
WHERE cost_date >= :start_date AND cost_date < :end_date
GROUP BY tenant_id, resource_type
ORDER BY tenant_id NULLS LAST, resource_type
