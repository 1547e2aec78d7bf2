-- Days of the window where unattributed_costs does not match the latest landing rows:
-- a missing day, total <> attributed + unattributed, or a different unattributed amount.
WITH landed AS (
    SELECT cost_date,
           SUM(CAST(CASE WHEN tenant_id IS NOT NULL THEN amount_usd ELSE 0 END AS DECIMAL(38, 12))) AS attributed_usd,
           SUM(CAST(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END AS DECIMAL(38, 12))) AS unattributed_usd
    FROM metering.v_aws_cost_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date
)
SELECT l.cost_date, u.total_aws_cost_usd, l.attributed_usd, l.unattributed_usd
FROM landed AS l
LEFT JOIN metering.unattributed_costs AS u ON u.cost_date = l.cost_date
WHERE u.cost_date IS NULL
   OR u.total_aws_cost_usd <> l.attributed_usd + l.unattributed_usd
   OR u.unattributed_cost_usd <> l.unattributed_usd
ORDER BY l.cost_date
LIMIT 20
