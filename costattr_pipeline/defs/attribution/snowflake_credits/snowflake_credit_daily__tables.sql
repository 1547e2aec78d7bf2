CREATE SCHEMA IF NOT EXISTS metering;

-- Contract section 4 (FR-394): per UTC day and warehouse, the metered compute credits split by tenant.
-- Per (cost_date, warehouse_name) the credits add up to the metered credits exactly, and cost_usd adds up
-- to ROUND(metered credits x price, 6) exactly.
CREATE TABLE IF NOT EXISTS metering.snowflake_credit_daily (
    cost_date        DATE NOT NULL,           -- UTC day of the metered hours
    warehouse_name   VARCHAR NOT NULL,        -- the Snowflake warehouse
    tenant_id        VARCHAR,                 -- NULL: no tenant (unattributed or idle)
    attribution      VARCHAR NOT NULL,        -- dedicated, proportional, unattributed, idle
    credits          DECIMAL(38, 12) NOT NULL, -- Snowflake credits (compute, billed cloud services), exact; split by largest remainder
    credit_price_usd DECIMAL(18, 6),          -- USD per credit in force that day; NULL: no price in force (fails the price check)
    cost_usd         DECIMAL(38, 6)           -- USD, 6 decimals: the warehouse-day's cost split by largest remainder; NULL: no price
);

