CREATE SCHEMA IF NOT EXISTS metering;

-- system.billing.usage as landed: one row per usage record, the window replaced on each run.
CREATE TABLE IF NOT EXISTS metering.databricks_usage (
    record_id        VARCHAR NOT NULL,
    account_id       VARCHAR,
    workspace_id     VARCHAR,
    sku_name         VARCHAR NOT NULL,
    cloud            VARCHAR,
    usage_start_time TIMESTAMP NOT NULL,     -- UTC
    usage_end_time   TIMESTAMP,
    usage_date       DATE NOT NULL,
    usage_unit       VARCHAR,
    usage_quantity   DECIMAL(38, 18) NOT NULL, -- RETRACTION records carry negative quantities
    custom_tags      VARCHAR,                  -- JSON object text
    usage_metadata   VARCHAR,                  -- JSON text
    record_type      VARCHAR NOT NULL,         -- ORIGINAL, RETRACTION, RESTATEMENT
    source_name      VARCHAR NOT NULL          -- the export file or the SQL warehouse it came from
);
-- Usage is appended straight into the landing table; the staging table of earlier versions is gone.
DROP TABLE IF EXISTS metering.databricks_usage_staging;

-- system.billing.list_prices as landed, keyed on (sku_name, cloud, account_id, currency_code, price_start_time).
CREATE TABLE IF NOT EXISTS metering.databricks_list_prices (
    price_start_time     TIMESTAMP NOT NULL,
    price_end_time       TIMESTAMP,            -- NULL: open
    account_id           VARCHAR,
    sku_name             VARCHAR NOT NULL,
    cloud                VARCHAR,
    currency_code        VARCHAR NOT NULL,
    usage_unit           VARCHAR,
    pricing              VARCHAR NOT NULL,     -- JSON text as delivered
    default_price        DECIMAL(20, 10),      -- pricing.default
    effective_list_price DECIMAL(20, 10)       -- pricing.effective_list.default
);
CREATE TABLE IF NOT EXISTS metering.databricks_list_prices_staging AS
SELECT * FROM metering.databricks_list_prices WHERE 1 = 0;
