-- The window's external API costs as they are landed: the staged file's rows of those days, each with its
-- amount in USD at the rate in force on its day (fx_rates_to_usd: settings.yaml fx_to_usd, USD is 1).
-- The versioned table's append step (lib/versioned_table__append.sql) reads them and appends the days
-- whose rows differ from their current version as a new version.
SELECT s.cost_date, s.tenant_id, s.module_id, s.provider, s.amount, s.currency, fx.rate_to_usd AS fx_rate_to_usd,
       CAST(s.amount * fx.rate_to_usd AS DECIMAL(38, 18)) AS amount_usd
FROM metering.external_api_costs_staging AS s
LEFT JOIN fx_rates_to_usd AS fx
  ON fx.currency = s.currency
 AND fx.effective_from <= s.cost_date
 AND (fx.effective_to IS NULL OR s.cost_date < fx.effective_to)
WHERE s.cost_date >= :start_date AND s.cost_date < :end_date
