-- AWS: the latest Cost Explorer rows of ONE grouping per day (tenant x service when the day has it,
-- else tenant x module), exactly as unattributed_costs: rows of different groupings are never added.
SELECT cost_date, tenant_id, module_id, 'aws' AS resource_type,
       CAST(amount_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.aws_cost_latest
WHERE cost_date >= :start_date AND cost_date < :end_date
QUALIFY DENSE_RANK() OVER (
    PARTITION BY cost_date
    ORDER BY CASE WHEN grouped_by LIKE '%DIMENSION:SERVICE%' THEN 0 ELSE 1 END, grouped_by
) = 1
