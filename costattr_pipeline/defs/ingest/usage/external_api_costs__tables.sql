CREATE SCHEMA IF NOT EXISTS metering;

-- External API costs per day. tenant_id NULL: no tenant caused it. Append-only (spec NFR-024): a
-- re-landed day that changed is appended as a new version, never updated or deleted;
-- metering.v_external_api_costs shows each day's current version (what every reader uses),
-- external_api_costs__as_of.sql the version current at an earlier time. The register of landings and the view
-- are those of every versioned table (lib/versioned_table__register.sql, written by EXTERNAL_API_COSTS_VERSIONS).
CREATE TABLE IF NOT EXISTS metering.external_api_costs (
    cost_date       DATE NOT NULL,             -- the day the cost was incurred
    tenant_id       VARCHAR,                   -- the tenant who caused it; NULL: none
    module_id       VARCHAR,                   -- the product module that called the API, when known
    provider        VARCHAR NOT NULL,          -- the third-party API provider
    amount          DECIMAL(38, 12) NOT NULL,  -- as the provider charged it, in currency
    currency        VARCHAR NOT NULL,          -- ISO 4217
    fx_rate_to_usd  DECIMAL(20, 10),           -- USD per unit of currency on cost_date (1 for USD); NULL: no rate
    amount_usd      DECIMAL(38, 18),           -- amount x fx_rate_to_usd; NULL without a rate
    computation_id  VARCHAR,                   -- the landing that appended the row (the Dagster run); NULL: before versions
    computed_at     TIMESTAMP,                 -- UTC time of that landing
    config_hash     VARCHAR,                   -- hash of the fx_to_usd rates it converted with
    source_load_ids VARCHAR                    -- the file (or warehouse table) it was read from
);
-- Warehouses created before the USD conversion get its two columns, and before versions the other four.
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS fx_rate_to_usd DECIMAL(20, 10);
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS amount_usd DECIMAL(38, 18);
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS computation_id VARCHAR;
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS computed_at TIMESTAMP;
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS config_hash VARCHAR;
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS source_load_ids VARCHAR;

-- The validated file's rows, staged for the window's replacement.
CREATE TABLE IF NOT EXISTS metering.external_api_costs_staging (
    cost_date DATE NOT NULL,            -- as metering.external_api_costs
    tenant_id VARCHAR,                  -- as metering.external_api_costs
    module_id VARCHAR,                  -- as metering.external_api_costs
    provider  VARCHAR NOT NULL,         -- as metering.external_api_costs
    amount    DECIMAL(38, 12) NOT NULL, -- as metering.external_api_costs: in currency, exact
    currency  VARCHAR NOT NULL          -- ISO 4217
);
