CREATE SCHEMA IF NOT EXISTS metering;

-- system.billing.usage as landed: one row per usage record, the window replaced on each run.
CREATE TABLE IF NOT EXISTS metering.databricks_usage (
    record_id        VARCHAR NOT NULL,         -- system.billing.usage record_id
    account_id       VARCHAR,                  -- the Databricks account
    workspace_id     VARCHAR,                  -- the Databricks workspace
    sku_name         VARCHAR NOT NULL,         -- the SKU billed, e.g. STANDARD_ALL_PURPOSE_COMPUTE
    cloud            VARCHAR,                  -- AWS, AZURE or GCP
    usage_start_time TIMESTAMP NOT NULL,       -- UTC start of the usage
    usage_end_time   TIMESTAMP,                -- UTC end of the usage (exclusive)
    usage_date       DATE NOT NULL,            -- UTC day of the usage, as Databricks reports it
    usage_unit       VARCHAR,                  -- the unit of usage_quantity, e.g. DBU
    usage_quantity   DECIMAL(38, 18) NOT NULL, -- units of usage_unit, exact; RETRACTION records carry negative quantities
    custom_tags      VARCHAR,                  -- JSON object text
    usage_metadata   VARCHAR,                  -- JSON text
    record_type      VARCHAR NOT NULL,         -- ORIGINAL, RETRACTION, RESTATEMENT
    source_name      VARCHAR NOT NULL          -- the export file or the SQL warehouse it came from
);
-- Usage is appended straight into the landing table; the staging table of earlier versions is gone.
DROP TABLE IF EXISTS metering.databricks_usage_staging;

-- system.billing.list_prices as landed, keyed on (sku_name, cloud, account_id, currency_code, price_start_time).
CREATE TABLE IF NOT EXISTS metering.databricks_list_prices (
    price_start_time     TIMESTAMP NOT NULL,   -- UTC time the price comes into force (inclusive)
    price_end_time       TIMESTAMP,            -- UTC time the price is no longer in force (exclusive); NULL: open
    account_id           VARCHAR,              -- the account the price is for; NULL: every account
    sku_name             VARCHAR NOT NULL,     -- the SKU priced
    cloud                VARCHAR,              -- AWS, AZURE or GCP; NULL: every cloud
    currency_code        VARCHAR NOT NULL,     -- ISO 4217 currency of the prices
    usage_unit           VARCHAR,              -- the unit priced, e.g. DBU
    pricing              VARCHAR NOT NULL,     -- JSON text as delivered
    default_price        DECIMAL(20, 10),      -- pricing.default: currency_code per usage_unit, exact
    effective_list_price DECIMAL(20, 10)       -- pricing.effective_list.default: currency_code per usage_unit; preferred
);
CREATE TABLE IF NOT EXISTS metering.databricks_list_prices_staging AS
SELECT * FROM metering.databricks_list_prices WHERE 1 = 0;
