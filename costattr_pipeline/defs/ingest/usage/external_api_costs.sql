-- Replace the window's external API costs with the staged file's rows of those days, each with its
-- amount in USD at the rate in force on its day (fx_rates_to_usd: settings.yaml fx_to_usd, USD is 1).
DELETE FROM metering.external_api_costs
WHERE cost_date >= :start_date AND cost_date < :end_date;

INSERT INTO metering.external_api_costs
    (cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd)
SELECT s.cost_date, s.tenant_id, s.module_id, s.provider, s.amount, s.currency, fx.rate_to_usd,
       CAST(s.amount * fx.rate_to_usd AS DECIMAL(38, 18))
FROM metering.external_api_costs_staging AS s
LEFT JOIN fx_rates_to_usd AS fx
  ON fx.currency = s.currency
 AND fx.effective_from <= s.cost_date
 AND (fx.effective_to IS NULL OR s.cost_date < fx.effective_to)
WHERE s.cost_date >= :start_date AND s.cost_date < :end_date;

DELETE FROM metering.external_api_costs_staging;
