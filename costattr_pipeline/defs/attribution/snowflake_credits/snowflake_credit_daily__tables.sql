CREATE SCHEMA IF NOT EXISTS metering;

-- Contract section 4 (FR-394): per UTC day and warehouse, the metered compute credits split by tenant.
-- Per (cost_date, warehouse_name) the credits add up to the metered credits exactly, and cost_usd adds up
-- to ROUND(metered credits x price, 6) exactly.
CREATE TABLE IF NOT EXISTS metering.snowflake_credit_daily (
    cost_date        DATE NOT NULL,
    warehouse_name   VARCHAR NOT NULL,
    tenant_id        VARCHAR,                 -- NULL: no tenant (unattributed or idle)
    attribution      VARCHAR NOT NULL,        -- dedicated, proportional, unattributed, idle
    credits          DECIMAL(38, 12) NOT NULL,
    credit_price_usd DECIMAL(18, 6),          -- NULL: no price in force (fails the price check)
    cost_usd         DECIMAL(38, 6)
);


-- The published contract (spec ADR-046 §3): METERING.V_SNOWFLAKE_CREDIT_DAILY. Every reader outside this
-- asset reads the view, never the table.
CREATE OR REPLACE VIEW metering.v_snowflake_credit_daily AS
SELECT cost_date, warehouse_name, tenant_id, attribution, credits, credit_price_usd, cost_usd
FROM metering.snowflake_credit_daily;
