-- Days and providers of the window where the attributed rows do not match the latest landed charges:
-- a charge missing or repeated, a total that differs from the landed cost column (in the charges'
-- currency), or a USD amount that is not the cost at its rate (to 18 decimals).
WITH landed AS (
    SELECT cost_date, provider, COUNT(*) AS charges,
           SUM(CAST(billed_cost AS DECIMAL(38, 18))) AS billed_cost,
           SUM(CAST(effective_cost AS DECIMAL(38, 18))) AS effective_cost
    FROM metering.focus_charges_latest
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, provider
),
attributed AS (
    SELECT cost_date, provider, COUNT(*) AS charges, MIN(cost_column) AS cost_column,
           SUM(CAST(cost AS DECIMAL(38, 18))) AS cost,
           SUM(CASE WHEN cost_usd <> CAST(cost * fx_rate_to_usd AS DECIMAL(38, 18)) THEN 1 ELSE 0 END) AS misconverted,
           SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS cost_usd,
           SUM(CAST(CASE WHEN tenant_id IS NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18))) AS unattributed_usd,
           SUM(CAST(CASE WHEN tenant_id IS NOT NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18))) AS attributed_usd
    FROM metering.focus_cost_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, provider
)
SELECT COALESCE(l.cost_date, a.cost_date) AS cost_date, COALESCE(l.provider, a.provider) AS provider,
       l.charges AS landed_charges, a.charges AS attributed_charges,
       CASE WHEN a.cost_column = 'BilledCost' THEN l.billed_cost ELSE l.effective_cost END AS landed_cost,
       a.cost AS attributed_cost, a.misconverted AS rows_not_at_their_rate
FROM landed AS l
FULL OUTER JOIN attributed AS a ON a.cost_date = l.cost_date AND a.provider = l.provider
WHERE l.charges IS NULL OR a.charges IS NULL OR l.charges <> a.charges
   OR a.cost <> CASE WHEN a.cost_column = 'BilledCost' THEN l.billed_cost ELSE l.effective_cost END
   OR a.misconverted > 0
   OR a.cost_usd <> a.attributed_usd + a.unattributed_usd
ORDER BY 1, 2
LIMIT 20
