-- External API costs as charged by the providers, in USD: one row per cost line, with the rate card version in
-- force in its month (rate_card_versions, bound at run time). A cost without a USD rate is left out, as the
-- summary leaves it out (its own blocking check fails).
SELECT c.cost_date, c.provider, c.tenant_id, c.module_id, CAST(c.amount_usd AS DECIMAL(38, 18)) AS amount_usd,
       v.rate_card_version
FROM metering.v_external_api_costs AS c
LEFT JOIN rate_card_versions AS v ON v.period_start = CAST(DATE_TRUNC('MONTH', c.cost_date) AS DATE)
WHERE c.cost_date >= :start_date AND c.cost_date < :end_date AND c.amount_usd IS NOT NULL
