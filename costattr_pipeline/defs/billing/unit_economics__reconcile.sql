-- Periods of the window where unit economics does not match its sources: revenue vs the bills'
-- totals, attributed cost vs the summary's tenant cost with its markup. Empty when everything reconciles.
WITH expected AS (
    SELECT period_start, SUM(CAST(total AS DECIMAL(38, 18))) AS revenue, 0 AS attributed_cost
    FROM metering.v_billing_period_summary
    WHERE period_start >= :start_date AND period_start < :end_date
    GROUP BY period_start
    UNION ALL
    SELECT CAST(DATE_TRUNC('month', cost_date) AS DATE), 0,
           SUM(CAST(cost_usd AS DECIMAL(38, 18)) + CAST(markup_usd AS DECIMAL(38, 18)))
    FROM metering.v_daily_tenant_summary
    WHERE cost_date >= :start_date AND cost_date < :end_date AND tenant_id IS NOT NULL
    GROUP BY CAST(DATE_TRUNC('month', cost_date) AS DATE)
),
expected_totals AS (
    SELECT period_start, SUM(CAST(revenue AS DECIMAL(38, 18))) AS revenue,
           SUM(CAST(attributed_cost AS DECIMAL(38, 18))) AS attributed_cost
    FROM expected GROUP BY period_start
),
actual_totals AS (
    SELECT period_start, SUM(CAST(revenue AS DECIMAL(38, 18))) AS revenue,
           SUM(CAST(attributed_cost AS DECIMAL(38, 18))) AS attributed_cost,
           SUM(CASE WHEN revenue - attributed_cost <> gross_margin THEN 1 ELSE 0 END) AS margin_errors
    FROM metering.unit_economics
    WHERE period_start >= :start_date AND period_start < :end_date
    GROUP BY period_start
)
SELECT e.period_start, e.revenue AS expected_revenue, a.revenue, e.attributed_cost AS expected_cost,
       a.attributed_cost, a.margin_errors
FROM expected_totals AS e
LEFT JOIN actual_totals AS a ON a.period_start = e.period_start
WHERE a.period_start IS NULL OR a.revenue <> e.revenue OR a.attributed_cost <> e.attributed_cost
   OR a.margin_errors > 0
ORDER BY 1
