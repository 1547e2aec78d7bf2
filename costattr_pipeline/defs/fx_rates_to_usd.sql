-- The USD rate of every currency, dated (relation `fx_rates_to_usd`): settings.yaml's fx_to_usd, and
-- USD itself at 1 over all time. Joined on currency and `effective_from <= day < effective_to`.
SELECT currency, effective_from, effective_to, CAST(rate AS DECIMAL(20, 10)) AS rate_to_usd
FROM config.fx_to_usd
UNION ALL
SELECT 'USD', CAST('0001-01-01' AS DATE), CAST(NULL AS DATE), CAST(1 AS DECIMAL(20, 10))
