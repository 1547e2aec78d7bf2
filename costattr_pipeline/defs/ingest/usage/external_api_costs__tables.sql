CREATE SCHEMA IF NOT EXISTS metering;

-- External API costs (USD), replaced per day window. tenant_id NULL: no tenant caused it.
CREATE TABLE IF NOT EXISTS metering.external_api_costs (
    cost_date DATE NOT NULL,
    tenant_id VARCHAR,
    module_id VARCHAR,
    provider  VARCHAR NOT NULL,
    amount    DECIMAL(38, 12) NOT NULL,
    currency  VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS metering.external_api_costs_staging AS
SELECT * FROM metering.external_api_costs WHERE 1 = 0;
