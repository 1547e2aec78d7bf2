CREATE SCHEMA IF NOT EXISTS metering;

-- Contract section 4 (FR-394): per UTC day and warehouse, the metered compute credits split by tenant.
-- Per (cost_date, warehouse_name) the credits add up to the metered credits exactly, and cost_usd adds up
-- to ROUND(metered credits x price, 6) exactly.
-- Append-only (spec NFR-024): a recomputed day is appended as a new version, never updated or deleted;
-- metering.v_snowflake_credit_daily shows the current version of each day, snowflake_credit_daily__as_of.sql
-- the version current at any earlier time. The register of computations and the view are those of every
-- versioned table (lib/versioned_table__register.sql, written by credit_sql.CREDIT_DAILY_VERSIONS).
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
