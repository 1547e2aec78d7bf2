CREATE SCHEMA IF NOT EXISTS metering;

-- All cost of a day, whatever its source. tenant_id NULL: unattributed.
-- 18 decimals: Databricks quantity x price carries more digits than Cost Explorer's 10.
CREATE TABLE IF NOT EXISTS metering.daily_tenant_summary (
    cost_date     DATE NOT NULL,             -- UTC day of the cost
    tenant_id     VARCHAR,                   -- the tenant who caused it; NULL: unattributed
    module_id     VARCHAR,                   -- product module when the source says (AWS module tag, external API); else NULL
    resource_type VARCHAR NOT NULL,          -- the source: aws, snowflake, databricks, external_api, focus_<provider>, kubernetes
    cost_usd      DECIMAL(38, 18) NOT NULL,  -- USD, exact decimal (not rounded to cents)
    markup_usd    DECIMAL(38, 18) DEFAULT 0  -- markup of the source's cost model (AWS, SNOWFLAKE, DATABRICKS): cost_usd x percent / 100; 0 for other sources
);
-- Tables created before the markup column.
ALTER TABLE metering.daily_tenant_summary ADD COLUMN IF NOT EXISTS markup_usd DECIMAL(38, 18) DEFAULT 0;

-- The published contract (spec ADR-046 §3): METERING.V_DAILY_TENANT_SUMMARY.
CREATE OR REPLACE VIEW metering.v_daily_tenant_summary AS
SELECT cost_date, tenant_id, module_id, resource_type, cost_usd, markup_usd
FROM metering.daily_tenant_summary;
