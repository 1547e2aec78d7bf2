CREATE SCHEMA IF NOT EXISTS metering;

-- External API costs (USD), replaced per day window. tenant_id NULL: no tenant caused it.
CREATE TABLE IF NOT EXISTS metering.external_api_costs (
    cost_date DATE NOT NULL,             -- the day the cost was incurred
    tenant_id VARCHAR,                   -- the tenant who caused it; NULL: none
    module_id VARCHAR,                   -- the product module that called the API, when known
    provider  VARCHAR NOT NULL,          -- the third-party API provider
    amount    DECIMAL(38, 12) NOT NULL,  -- USD, exact, at provider cost (before the pass-through markup)
    currency  VARCHAR NOT NULL           -- USD
);

CREATE TABLE IF NOT EXISTS metering.external_api_costs_staging AS
SELECT * FROM metering.external_api_costs WHERE 1 = 0;
