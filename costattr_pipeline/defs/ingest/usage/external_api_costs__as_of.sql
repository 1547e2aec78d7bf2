-- The external API costs of the days [:start_date, :end_date) as costattr had landed them at :as_of (UTC):
-- for each day, the rows of its latest landing at or before :as_of (spec NFR-024). Rows from before
-- versions (computation_id NULL) have no time and are not shown.
WITH versions AS (
    SELECT cost_date, computation_id
    FROM metering.external_api_costs_computations
    WHERE computed_at <= :as_of AND cost_date >= :start_date AND cost_date < :end_date
    QUALIFY ROW_NUMBER() OVER (PARTITION BY cost_date ORDER BY computed_at DESC, computation_id DESC) = 1
)
SELECT c.cost_date, c.tenant_id, c.module_id, c.provider, c.amount, c.currency, c.fx_rate_to_usd, c.amount_usd,
       c.computation_id, c.computed_at, c.config_hash, c.source_load_ids
FROM metering.external_api_costs AS c
JOIN versions AS v ON v.cost_date = c.cost_date AND v.computation_id = c.computation_id
ORDER BY c.cost_date, c.tenant_id NULLS FIRST, c.provider, c.amount
