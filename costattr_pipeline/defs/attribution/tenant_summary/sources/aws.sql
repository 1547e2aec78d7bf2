-- AWS: the latest Cost Explorer rows of one grouping per day (metering.aws_cost_day_rows),
-- exactly as unattributed_costs: rows of different groupings are never added.
SELECT cost_date, tenant_id, module_id, 'aws' AS resource_type,
       CAST(amount_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.aws_cost_day_rows
WHERE cost_date >= :start_date AND cost_date < :end_date
