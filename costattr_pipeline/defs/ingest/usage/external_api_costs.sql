-- Land the window's external API costs from the staged file's rows of those days, each with its amount in
-- USD at the rate in force on its day (fx_rates_to_usd: settings.yaml fx_to_usd, USD is 1). The table is
-- append-only: the days whose rows differ from their current version are appended as a new version
-- (compared as multisets: two equal charges are two rows); a day that did not change appends nothing.
INSERT INTO metering.external_api_costs_computations
    (cost_date, computation_id, computed_at, config_hash, source_load_ids, row_count)
WITH landed AS (
    SELECT s.cost_date, s.tenant_id, s.module_id, s.provider, s.amount, s.currency, fx.rate_to_usd AS fx_rate_to_usd,
           CAST(s.amount * fx.rate_to_usd AS DECIMAL(38, 18)) AS amount_usd
    FROM metering.external_api_costs_staging AS s
    LEFT JOIN fx_rates_to_usd AS fx
      ON fx.currency = s.currency
     AND fx.effective_from <= s.cost_date
     AND (fx.effective_to IS NULL OR s.cost_date < fx.effective_to)
    WHERE s.cost_date >= :start_date AND s.cost_date < :end_date
),
landed_counts AS (
    SELECT cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd, COUNT(*) AS copies
    FROM landed
    GROUP BY cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd
),
current_counts AS (
    SELECT cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd, COUNT(*) AS copies
    FROM metering.v_external_api_costs
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd
),
changed_days AS (
    SELECT cost_date FROM (SELECT * FROM landed_counts EXCEPT SELECT * FROM current_counts) AS added
    UNION
    SELECT cost_date FROM (SELECT * FROM current_counts EXCEPT SELECT * FROM landed_counts) AS removed
)
SELECT d.cost_date, :computation_id, :computed_at, :config_hash, :source_load_ids,
       (SELECT COUNT(*) FROM landed AS l WHERE l.cost_date = d.cost_date)
FROM changed_days AS d;

INSERT INTO metering.external_api_costs
    (cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd,
     computation_id, computed_at, config_hash, source_load_ids)
SELECT s.cost_date, s.tenant_id, s.module_id, s.provider, s.amount, s.currency, fx.rate_to_usd,
       CAST(s.amount * fx.rate_to_usd AS DECIMAL(38, 18)), :computation_id, :computed_at, :config_hash,
       :source_load_ids
FROM metering.external_api_costs_staging AS s
LEFT JOIN fx_rates_to_usd AS fx
  ON fx.currency = s.currency
 AND fx.effective_from <= s.cost_date
 AND (fx.effective_to IS NULL OR s.cost_date < fx.effective_to)
WHERE s.cost_date >= :start_date AND s.cost_date < :end_date
  AND s.cost_date IN (SELECT cost_date FROM metering.external_api_costs_computations
                      WHERE computation_id = :computation_id);

DELETE FROM metering.external_api_costs_staging;
