-- External API costs per tenant and period, at provider cost in USD (the markup is applied in the bill).
SELECT tenant_id,
       CAST(DATE_TRUNC('month', cost_date) AS DATE) AS period_start,
       SUM(CAST(amount_usd AS DECIMAL(38, 18))) AS amount
FROM metering.v_external_api_costs
WHERE cost_date >= :start_date AND cost_date < :end_date AND tenant_id IS NOT NULL
GROUP BY tenant_id, CAST(DATE_TRUNC('month', cost_date) AS DATE)
ORDER BY tenant_id, period_start
