-- The window's latest FOCUS charges whose BillingCurrency has no USD rate in force on their day, per
-- currency (fx_rate_found's failing rows): checked before the attribution is written.
SELECT c.billing_currency AS currency, MIN(c.cost_date) AS first_day, MAX(c.cost_date) AS last_day,
       COUNT(*) AS rows_without_rate
FROM metering.focus_charges_latest AS c
LEFT JOIN fx_rates_to_usd AS fx
  ON fx.currency = c.billing_currency
 AND c.cost_date >= fx.effective_from AND (fx.effective_to IS NULL OR c.cost_date < fx.effective_to)
WHERE c.cost_date >= :start_date AND c.cost_date < :end_date AND fx.currency IS NULL
GROUP BY c.billing_currency
ORDER BY c.billing_currency
