-- What costattr attributed for the days [:start_date, :end_date) as of :as_of (a UTC timestamp): for each
-- day, the rows of its latest computation computed at or before :as_of (spec NFR-024). Days first computed
-- after :as_of are absent; rows from before versions (computation_id NULL) have no time and are not shown.
-- Run it as it is (docs/operations.md), with the three values bound.
WITH versions AS (
    SELECT cost_date, computation_id
    FROM metering.snowflake_credit_daily_computations
    WHERE computed_at <= :as_of AND cost_date >= :start_date AND cost_date < :end_date
    QUALIFY ROW_NUMBER() OVER (PARTITION BY cost_date ORDER BY computed_at DESC, computation_id DESC) = 1
)
SELECT c.cost_date, c.warehouse_name, c.tenant_id, c.attribution, c.credits, c.credit_price_usd, c.cost_usd,
       c.computation_id, c.computed_at, c.config_hash, c.source_load_ids
FROM metering.snowflake_credit_daily AS c
JOIN versions AS v ON v.cost_date = c.cost_date AND v.computation_id = c.computation_id
ORDER BY c.cost_date, c.warehouse_name, c.tenant_id NULLS LAST, c.attribution
