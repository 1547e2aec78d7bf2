-- FOCUS datasets: the counted charges, each provider its own resource type (focus_aws, focus_microsoft...).
SELECT cost_date, tenant_id, module_id, resource_type, CAST(cost_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.focus_cost_daily
WHERE cost_date >= :start_date AND cost_date < :end_date AND counted
