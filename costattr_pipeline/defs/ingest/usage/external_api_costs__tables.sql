CREATE SCHEMA IF NOT EXISTS metering;

-- External API costs, replaced per day window. tenant_id NULL: no tenant caused it.
CREATE TABLE IF NOT EXISTS metering.external_api_costs (
    cost_date      DATE NOT NULL,             -- the day the cost was incurred
    tenant_id      VARCHAR,                   -- the tenant who caused it; NULL: none
    module_id      VARCHAR,                   -- the product module that called the API, when known
    provider       VARCHAR NOT NULL,          -- the third-party API provider
    amount         DECIMAL(38, 12) NOT NULL,  -- as the provider charged it, in currency
    currency       VARCHAR NOT NULL,          -- ISO 4217
    fx_rate_to_usd DECIMAL(20, 10),           -- USD per unit of currency on cost_date (1 for USD); NULL: no rate
    amount_usd     DECIMAL(38, 18)            -- amount x fx_rate_to_usd; NULL without a rate
);
-- Warehouses created before the USD conversion get its two columns.
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS fx_rate_to_usd DECIMAL(20, 10);
ALTER TABLE metering.external_api_costs ADD COLUMN IF NOT EXISTS amount_usd DECIMAL(38, 18);

-- The validated file's rows, staged for the window's replacement.
CREATE TABLE IF NOT EXISTS metering.external_api_costs_staging (
    cost_date DATE NOT NULL,            -- as metering.external_api_costs
    tenant_id VARCHAR,                  -- as metering.external_api_costs
    module_id VARCHAR,                  -- as metering.external_api_costs
    provider  VARCHAR NOT NULL,         -- as metering.external_api_costs
    amount    DECIMAL(38, 12) NOT NULL, -- as metering.external_api_costs: in currency, exact
    currency  VARCHAR NOT NULL          -- ISO 4217
);
