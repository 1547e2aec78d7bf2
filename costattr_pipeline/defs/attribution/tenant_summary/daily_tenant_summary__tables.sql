CREATE SCHEMA IF NOT EXISTS metering;

-- All cost of a day, whatever its source. tenant_id NULL: unattributed.
-- 18 decimals: Databricks quantity x price carries more digits than Cost Explorer's 10.
CREATE TABLE IF NOT EXISTS metering.daily_tenant_summary (
    cost_date     DATE NOT NULL,
    tenant_id     VARCHAR,
    module_id     VARCHAR,
    resource_type VARCHAR NOT NULL,      -- aws, snowflake, databricks, external_api
    cost_usd      DECIMAL(38, 18) NOT NULL
);
