-- Usage per tenant, period and metric: each event_id once (usage_events_unique).
SELECT tenant_id,
       CAST(DATE_TRUNC('month', usage_date) AS DATE) AS period_start,
       metric,
       SUM(CAST(quantity AS DECIMAL(38, 12))) AS quantity
FROM metering.usage_events_unique
WHERE usage_date >= :start_date AND usage_date < :end_date
GROUP BY tenant_id, CAST(DATE_TRUNC('month', usage_date) AS DATE), metric
ORDER BY tenant_id, period_start, metric
