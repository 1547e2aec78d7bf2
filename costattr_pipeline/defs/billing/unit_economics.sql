-- Revenue and attributed cost per tenant and period (contract section 4, "Unit economics").
-- Attributed cost = the summary's cost plus its markup (cost models of source_type AWS, SNOWFLAKE, DATABRICKS).
-- Tenants with cost but no bill are kept (revenue 0): cost nobody pays for must show.
-- The margin percentage is computed from these exact figures by the asset (Decimal division).
WITH bills AS (
    SELECT tenant_id, period_start, total AS revenue
    FROM metering.v_billing_period_summary
    WHERE period_start >= :start_date AND period_start < :end_date
),
costs AS (
    SELECT tenant_id,
           CAST(DATE_TRUNC('month', cost_date) AS DATE) AS period_start,
           SUM(CAST(cost_usd AS DECIMAL(38, 18)) + CAST(markup_usd AS DECIMAL(38, 18))) AS attributed_cost
    FROM metering.v_daily_tenant_summary
    WHERE cost_date >= :start_date AND cost_date < :end_date AND tenant_id IS NOT NULL
    GROUP BY tenant_id, CAST(DATE_TRUNC('month', cost_date) AS DATE)
)
SELECT COALESCE(b.tenant_id, c.tenant_id) AS tenant_id,
       COALESCE(b.period_start, c.period_start) AS period_start,
       CAST(COALESCE(b.revenue, 0) AS DECIMAL(18, 2)) AS revenue,
       CAST(COALESCE(c.attributed_cost, 0) AS DECIMAL(38, 18)) AS attributed_cost,
       CAST(COALESCE(b.revenue, 0) - COALESCE(c.attributed_cost, 0) AS DECIMAL(38, 18)) AS gross_margin
FROM bills AS b
FULL OUTER JOIN costs AS c ON c.tenant_id = b.tenant_id AND c.period_start = b.period_start
ORDER BY 1, 2
