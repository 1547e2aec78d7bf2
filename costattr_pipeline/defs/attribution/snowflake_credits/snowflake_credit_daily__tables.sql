CREATE SCHEMA IF NOT EXISTS metering;

-- Contract section 4 (FR-394): per UTC day and warehouse, the metered compute credits split by tenant.
-- Per (cost_date, warehouse_name) the credits add up to the metered credits exactly, and cost_usd adds up
-- to ROUND(metered credits x price, 6) exactly.
-- Append-only (spec NFR-024): a recomputed day is appended as a new version, never updated or deleted;
-- metering.v_snowflake_credit_daily shows the current version of each day, snowflake_credit_daily__as_of.sql
-- the version current at any earlier time.
CREATE TABLE IF NOT EXISTS metering.snowflake_credit_daily (
    cost_date        DATE NOT NULL,           -- UTC day of the metered hours
    warehouse_name   VARCHAR NOT NULL,        -- the Snowflake warehouse
    tenant_id        VARCHAR,                 -- NULL: no tenant (unattributed or idle)
    attribution      VARCHAR NOT NULL,        -- dedicated, proportional, unattributed, idle
    credits          DECIMAL(38, 12) NOT NULL, -- Snowflake credits (compute, billed cloud services), exact; split by largest remainder
    credit_price_usd DECIMAL(18, 6),          -- USD per credit in force that day; NULL: no price in force (fails the price check)
    cost_usd         DECIMAL(38, 6),          -- USD, 6 decimals: the warehouse-day's cost split by largest remainder; NULL: no price
    computation_id   VARCHAR,                 -- the computation that appended the row (the Dagster run); NULL: before versions
    computed_at      TIMESTAMP,               -- UTC time of that computation
    config_hash      VARCHAR,                 -- hash of the settings.yaml snowflake section it was computed with
    source_load_ids  VARCHAR                  -- the ACCOUNT_USAGE relations it read
);
-- Tables of earlier versions were replaced per window: their rows stay, as the version before versions.
ALTER TABLE metering.snowflake_credit_daily ADD COLUMN IF NOT EXISTS computation_id VARCHAR;
ALTER TABLE metering.snowflake_credit_daily ADD COLUMN IF NOT EXISTS computed_at TIMESTAMP;
ALTER TABLE metering.snowflake_credit_daily ADD COLUMN IF NOT EXISTS config_hash VARCHAR;
ALTER TABLE metering.snowflake_credit_daily ADD COLUMN IF NOT EXISTS source_load_ids VARCHAR;

-- The register of computations (append-only): one row per day a computation changed. A day whose latest
-- computation has no rows (row_count 0) is empty, whatever earlier versions held.
CREATE TABLE IF NOT EXISTS metering.snowflake_credit_daily_computations (
    cost_date       DATE NOT NULL,           -- the day whose version this computation is
    computation_id  VARCHAR NOT NULL,        -- the computation (the Dagster run id); its rows in the table carry it
    computed_at     TIMESTAMP NOT NULL,      -- UTC time of the computation: from then on this version is current
    config_hash     VARCHAR NOT NULL,        -- hash of the settings the figures depend on
    source_load_ids VARCHAR NOT NULL,        -- what it read (relations or file)
    row_count       BIGINT NOT NULL          -- rows of the version; 0: the day has no rows from then on
);

-- A run's computed rows before they are compared with the current version (a work table, replaced by each run).
CREATE TABLE IF NOT EXISTS metering.snowflake_credit_daily_staged (
    cost_date        DATE NOT NULL,           -- as metering.snowflake_credit_daily
    warehouse_name   VARCHAR NOT NULL,        -- as metering.snowflake_credit_daily
    tenant_id        VARCHAR,                 -- as metering.snowflake_credit_daily
    attribution      VARCHAR NOT NULL,        -- as metering.snowflake_credit_daily
    credits          DECIMAL(38, 12) NOT NULL, -- Snowflake credits (compute, billed cloud services), exact; split by largest remainder
    credit_price_usd DECIMAL(18, 6),          -- USD per credit in force that day; NULL: no price in force (fails the price check)
    cost_usd         DECIMAL(38, 6)           -- USD, 6 decimals: the warehouse-day's cost split by largest remainder; NULL: no price
);

-- The published contract (spec ADR-046 §3): METERING.V_SNOWFLAKE_CREDIT_DAILY, the current version of each
-- day (its latest computation; rows from before versions until their day is recomputed). Every reader
-- outside this asset reads the view, never the table.
CREATE OR REPLACE VIEW metering.v_snowflake_credit_daily AS
WITH current_computations AS (
    SELECT cost_date, computation_id
    FROM metering.snowflake_credit_daily_computations
    QUALIFY ROW_NUMBER() OVER (PARTITION BY cost_date ORDER BY computed_at DESC, computation_id DESC) = 1
)
SELECT c.cost_date, c.warehouse_name, c.tenant_id, c.attribution, c.credits, c.credit_price_usd, c.cost_usd,
       c.computation_id, c.computed_at
FROM metering.snowflake_credit_daily AS c
WHERE EXISTS (SELECT 1 FROM current_computations AS k
              WHERE k.cost_date = c.cost_date AND k.computation_id = c.computation_id)
   OR (c.computation_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM metering.snowflake_credit_daily_computations AS k
                       WHERE k.cost_date = c.cost_date));
