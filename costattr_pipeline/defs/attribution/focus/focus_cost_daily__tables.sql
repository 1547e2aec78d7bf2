CREATE SCHEMA IF NOT EXISTS metering;
CREATE SCHEMA IF NOT EXISTS config;

-- Every counted-or-not FOCUS charge of a day, attributed: one row per landed charge (its landing row
-- is load_id, source_file, source_row). tenant_id NULL: unattributed.
CREATE TABLE IF NOT EXISTS metering.focus_cost_daily (
    cost_date          DATE NOT NULL,           -- UTC day of the charge's ChargePeriodStart
    provider           VARCHAR NOT NULL,        -- ServiceProviderName (FOCUS 1.3), else ProviderName
    resource_type      VARCHAR NOT NULL,        -- focus_<provider>, the summary's resource type
    billing_account_id VARCHAR NOT NULL,        -- FOCUS BillingAccountId of the charge
    tenant_id          VARCHAR,                 -- the tenant the charge is attributed to; NULL: unattributed
    module_id          VARCHAR,                 -- the product module from the charge's tag or column, when given; else NULL
    attribution_rule   VARCHAR NOT NULL,        -- column (custom x_ column), tag (Tags key), unattributed
    cost_column        VARCHAR NOT NULL,        -- EffectiveCost or BilledCost
    cost_usd           DECIMAL(38, 18) NOT NULL, -- USD: cost x fx_rate_to_usd, exact to 18 decimals
    counted            BOOLEAN NOT NULL,        -- FALSE: the same money is counted from Cost Explorer
    overlap            VARCHAR,                 -- NULL, cost_explorer_counted, focus_counted
    load_id            VARCHAR NOT NULL,        -- the landed export's identity (metering.focus_charges.load_id)
    source_file        VARCHAR NOT NULL,        -- focus/<path> of the file the charge came in
    source_row         BIGINT NOT NULL,         -- the charge's CSV line or Parquet row in source_file
    currency           VARCHAR,                 -- the charge's BillingCurrency (ISO 4217)
    cost               DECIMAL(38, 18),         -- the cost column's amount, in currency
    fx_rate_to_usd     DECIMAL(20, 10)          -- USD per unit of currency on cost_date (settings.yaml fx_to_usd; USD: 1)
);
-- Tables of earlier versions (USD only) gain the currency columns, filled as what they were.
ALTER TABLE metering.focus_cost_daily ADD COLUMN IF NOT EXISTS currency VARCHAR;
ALTER TABLE metering.focus_cost_daily ADD COLUMN IF NOT EXISTS cost DECIMAL(38, 18);
ALTER TABLE metering.focus_cost_daily ADD COLUMN IF NOT EXISTS fx_rate_to_usd DECIMAL(20, 10);
UPDATE metering.focus_cost_daily SET currency = 'USD', cost = cost_usd, fx_rate_to_usd = 1 WHERE currency IS NULL;

-- settings.yaml focus.cost_explorer_overlap: the AWS billing accounts Cost Explorer also fetches.
CREATE TABLE IF NOT EXISTS config.focus_cost_explorer_accounts (
    billing_account_id VARCHAR NOT NULL,        -- an AWS billing account whose cost Cost Explorer also fetches
    counted            VARCHAR NOT NULL         -- which source counts its money: cost_explorer or focus
);
