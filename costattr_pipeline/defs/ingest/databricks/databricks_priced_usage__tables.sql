CREATE SCHEMA IF NOT EXISTS metering;

-- Every usage record priced (contract section 4); unpriced records keep NULL price and cost.
CREATE TABLE IF NOT EXISTS metering.databricks_priced_usage (
    usage_date       DATE NOT NULL,            -- UTC day of the usage (system.billing.usage usage_date)
    product_id       VARCHAR,                  -- custom tag (settings databricks.product_tag); NULL: untagged
    tenant_id        VARCHAR,                  -- custom tag (settings databricks.tenant_tag); NULL: untagged
    workspace_id     VARCHAR,                  -- the Databricks workspace
    account_id       VARCHAR,                  -- the Databricks account
    cloud            VARCHAR,                  -- AWS, AZURE or GCP
    sku_name         VARCHAR NOT NULL,         -- the SKU billed, e.g. STANDARD_ALL_PURPOSE_COMPUTE
    usage_unit       VARCHAR,                  -- the unit of usage_quantity, e.g. DBU
    usage_quantity   DECIMAL(38, 18) NOT NULL, -- units of usage_unit, exact; negative on RETRACTION records
    unit_price       DECIMAL(20, 10),          -- price per usage_unit, in currency; NULL: no list price in force (fails the check)
    cost             DECIMAL(38, 18),          -- usage_quantity x unit_price, in currency, exact
    currency         VARCHAR,                  -- ISO 4217 currency of the list price; NULL without a price
    price_source     VARCHAR,                  -- 'effective_list' or 'default'
    record_id        VARCHAR NOT NULL,         -- system.billing.usage record_id
    record_type      VARCHAR NOT NULL,         -- ORIGINAL, RETRACTION, RESTATEMENT
    usage_start_time TIMESTAMP NOT NULL,       -- UTC start of the usage: picks the list price in force
    fx_rate_to_usd   DECIMAL(20, 10),          -- USD per unit of currency on usage_date (1 for USD); NULL: no rate
    cost_usd         DECIMAL(38, 18)           -- USD, exact: cost x fx_rate_to_usd; NULL without a price or a rate
);
-- Warehouses created before the USD conversion get its two columns.
ALTER TABLE metering.databricks_priced_usage ADD COLUMN IF NOT EXISTS fx_rate_to_usd DECIMAL(20, 10);
ALTER TABLE metering.databricks_priced_usage ADD COLUMN IF NOT EXISTS cost_usd DECIMAL(38, 18);

-- The best list prices, by stretches of time (contract section 4). A price can price a usage record
-- of the same SKU, the same cloud and account when both sides carry one, and a window
-- [price_start_time, price_end_time) holding usage_start_time, so usage exactly at a price change
-- takes the new price; exact cloud and account matches are preferred (match_rank 0 is best).
-- Which prices apply changes only at a price's start or end, so for each (sku_name, cloud,
-- account_id) of the landed usage the time line is cut at those boundaries into segments
-- [segment_start, segment_end) and each segment lists the prices in force over all of it. Pricing a
-- record is then an equality join on its key and a range test on a few segments, instead of ranking
-- the candidate prices of every one of millions of records.
DROP VIEW IF EXISTS metering.databricks_price_candidates;
CREATE OR REPLACE VIEW metering.databricks_price_segments AS
WITH usage_keys AS (
    SELECT DISTINCT sku_name, cloud, account_id
    FROM metering.databricks_usage
),
key_prices AS (
    SELECT k.sku_name,
           k.cloud,
           k.account_id,
           p.price_start_time,
           p.price_end_time,
           p.currency_code,
           p.default_price,
           p.effective_list_price,
           CASE WHEN k.cloud = p.cloud THEN 0 ELSE 1 END
               + CASE WHEN k.account_id = p.account_id THEN 0 ELSE 2 END AS match_rank
    FROM usage_keys AS k
    JOIN metering.databricks_list_prices AS p
      ON p.sku_name = k.sku_name
     AND (k.cloud IS NULL OR p.cloud IS NULL OR p.cloud = k.cloud)
     AND (k.account_id IS NULL OR p.account_id IS NULL OR p.account_id = k.account_id)
),
boundaries AS (
    SELECT sku_name, cloud, account_id, price_start_time AS boundary FROM key_prices
    UNION
    SELECT sku_name, cloud, account_id, price_end_time FROM key_prices WHERE price_end_time IS NOT NULL
),
segments AS (
    SELECT sku_name,
           cloud,
           account_id,
           boundary AS segment_start,
           LEAD(boundary) OVER (PARTITION BY sku_name, cloud, account_id ORDER BY boundary) AS segment_end
    FROM boundaries
)
SELECT s.sku_name,
       s.cloud,
       s.account_id,
       s.segment_start,
       s.segment_end,                    -- NULL: open
       kp.price_start_time,
       kp.price_end_time,
       kp.currency_code,
       kp.default_price,
       kp.effective_list_price,
       kp.match_rank
FROM segments AS s
JOIN key_prices AS kp
  ON kp.sku_name = s.sku_name
 AND kp.cloud IS NOT DISTINCT FROM s.cloud
 AND kp.account_id IS NOT DISTINCT FROM s.account_id
 AND kp.price_start_time <= s.segment_start
 AND (kp.price_end_time IS NULL OR s.segment_start < kp.price_end_time);
