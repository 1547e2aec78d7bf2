CREATE SCHEMA IF NOT EXISTS config;
CREATE SCHEMA IF NOT EXISTS metering;

-- The billing config as loaded: append-only. Each distinct content of rate_card.yaml + tenants.yaml
-- is stored once under its config_hash; billing_config_loads records when each content became
-- current. A bill carries (config_hash, rate_card_version): join on both to see exactly what it used.
CREATE TABLE IF NOT EXISTS config.billing_config_loads (
    config_hash    VARCHAR NOT NULL,  -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    rate_card_file VARCHAR NOT NULL,  -- the rate card file the content was read from (rate_card.yaml)
    tenants_file   VARCHAR NOT NULL,  -- the tenants file the content was read from (tenants.yaml)
    loaded_at      TIMESTAMP NOT NULL -- UTC time this content became the current billing config
);

CREATE TABLE IF NOT EXISTS config.rate_card_versions (
    config_hash             VARCHAR NOT NULL,  -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    version                 VARCHAR NOT NULL,  -- the rate card version's name, e.g. 2026.1
    effective_from          DATE NOT NULL,     -- first day in force (inclusive)
    effective_to            DATE,              -- first day no longer in force (exclusive); NULL: open
    currency                VARCHAR NOT NULL,  -- the currency of every amount of the version (USD)
    pass_through_markup_pct DECIMAL(38, 12) NOT NULL -- markup on external API costs, in percent (10 = +10 %)
);

CREATE TABLE IF NOT EXISTS config.rate_card_customer_levy (
    config_hash VARCHAR NOT NULL,             -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    version     VARCHAR NOT NULL,             -- the rate card version
    tier        VARCHAR NOT NULL,             -- the tenant tier the levy applies to
    amount      DECIMAL(38, 12) NOT NULL      -- currency units per billing period (month), exact
);

CREATE TABLE IF NOT EXISTS config.rate_card_facility_fee (
    config_hash VARCHAR NOT NULL,             -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    version     VARCHAR NOT NULL,             -- the rate card version
    module_id   VARCHAR NOT NULL,             -- the product module the fee is charged for
    amount      DECIMAL(38, 12) NOT NULL      -- currency units per billing period (month), exact
);

CREATE TABLE IF NOT EXISTS config.rate_card_variable_tiers (
    config_hash VARCHAR NOT NULL,             -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    version     VARCHAR NOT NULL,             -- the rate card version
    metric      VARCHAR NOT NULL,             -- the usage metric the band prices, e.g. api_calls
    tier_number INTEGER NOT NULL,             -- 1 = first band
    lower_bound DECIMAL(38, 12) NOT NULL,     -- billable quantity above which the band starts (units of the metric)
    up_to       DECIMAL(38, 12),              -- billable quantity where the band ends (units of the metric); NULL: open last band
    unit_price  DECIMAL(38, 12) NOT NULL      -- currency units per unit of billable quantity in the band, exact
);

CREATE TABLE IF NOT EXISTS config.tier_allowances (
    config_hash VARCHAR NOT NULL,        -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    tier        VARCHAR NOT NULL,        -- the tenant tier
    metric      VARCHAR NOT NULL,        -- the usage metric, e.g. api_calls
    included    DECIMAL(38, 12) NOT NULL -- units of the metric included per period (usage above it is billable)
);

CREATE TABLE IF NOT EXISTS config.tenant_tiers (
    config_hash    VARCHAR NOT NULL, -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    tenant_id      VARCHAR NOT NULL, -- the tenant (tenants.yaml)
    tier           VARCHAR NOT NULL, -- the tier the tenant is on over the window
    effective_from DATE NOT NULL,    -- first day in force (inclusive)
    effective_to   DATE              -- first day no longer in force (exclusive); NULL: open
);

CREATE TABLE IF NOT EXISTS config.tenant_modules (
    config_hash    VARCHAR NOT NULL, -- hash of the rate_card.yaml + tenants.yaml content these rows were loaded from
    tenant_id      VARCHAR NOT NULL, -- the tenant (tenants.yaml)
    module_id      VARCHAR NOT NULL, -- a product module the tenant has over the window (facility fee)
    effective_from DATE NOT NULL,    -- first day in force (inclusive)
    effective_to   DATE              -- first day no longer in force (exclusive); NULL: open
);

-- One bill per tenant and calendar month (contract section 4, FR-395). Components in cents.
CREATE TABLE IF NOT EXISTS metering.billing_period_summary (
    tenant_id            VARCHAR NOT NULL,  -- the billed tenant (tenants.yaml)
    period_start         DATE NOT NULL,     -- first day of the month
    period_end           DATE NOT NULL,     -- last day of the month (inclusive)
    rate_card_version    VARCHAR NOT NULL,  -- the version in force on period_start
    customer_levy        DECIMAL(18, 2) NOT NULL,  -- currency units, cents half away from zero: levy of the tier each day / days in month
    facility_fee         DECIMAL(18, 2) NOT NULL,  -- currency units, cents half away from zero: module fees x active days / days in month
    variable_consumption DECIMAL(18, 2) NOT NULL,  -- currency units, cents half away from zero: billable usage over the allowance, tier-priced
    pass_through         DECIMAL(18, 2) NOT NULL,  -- currency units, cents half away from zero: external API cost x (1 + markup %)
    total                DECIMAL(18, 2) NOT NULL,  -- currency units: the sum of the four rounded components
    currency             VARCHAR NOT NULL,  -- the rate card's currency (USD)
    allowance_tier       VARCHAR,           -- whose allowance applied (tier in force on period_start)
    config_hash          VARCHAR NOT NULL,  -- the config content the bill was computed from
    provisional          BOOLEAN NOT NULL   -- TRUE while the period is not over
);

-- The variable consumption of each bill, per metric, for audit (unrounded amounts).
CREATE TABLE IF NOT EXISTS metering.billing_period_usage (
    tenant_id         VARCHAR NOT NULL,        -- the billed tenant
    period_start      DATE NOT NULL,           -- first day of the month
    metric            VARCHAR NOT NULL,        -- usage metric, e.g. api_calls
    usage_quantity    DECIMAL(38, 12) NOT NULL, -- units of the metric used in the month (each event_id once)
    allowance         DECIMAL(38, 12) NOT NULL, -- units included in the tier in force on period_start
    billable_quantity DECIMAL(38, 12) NOT NULL, -- max(0, usage - allowance)
    amount            DECIMAL(38, 12)          -- currency units, exact (unrounded), tier-priced; NULL: the version does not price the metric
);

-- The published contract (spec ADR-046 §3): METERING.V_BILLING_PERIOD_SUMMARY (FR-395).
CREATE OR REPLACE VIEW metering.v_billing_period_summary AS
SELECT tenant_id, period_start, period_end, rate_card_version, customer_levy, facility_fee, variable_consumption,
       pass_through, total, currency, allowance_tier, config_hash, provisional
FROM metering.billing_period_summary;

-- The published contract of the versioned rate card (spec ADR-046 §3): METERING.V_COST_RATES. Every
-- version of the current billing config (the latest load of rate_card.yaml), one row per priced part:
-- the customer levy of each tier, the facility fee of each module, each band of each variable metric and
-- the pass-through markup. The config.* tables keep every earlier content (join on config_hash).
CREATE OR REPLACE VIEW metering.v_cost_rates AS
WITH current_config AS (
    SELECT config_hash
    FROM config.billing_config_loads
    QUALIFY ROW_NUMBER() OVER (ORDER BY loaded_at DESC, config_hash) = 1
),
versions AS (
    SELECT v.*
    FROM config.rate_card_versions AS v
    JOIN current_config AS c ON c.config_hash = v.config_hash
)
SELECT v.version AS rate_card_version, v.effective_from, v.effective_to, v.currency,
       'customer_levy' AS component, l.tier AS applies_to, CAST(NULL AS INTEGER) AS tier_number,
       CAST(NULL AS DECIMAL(38, 12)) AS lower_bound, CAST(NULL AS DECIMAL(38, 12)) AS up_to,
       l.amount, v.config_hash
FROM versions AS v
JOIN config.rate_card_customer_levy AS l ON l.config_hash = v.config_hash AND l.version = v.version
UNION ALL
SELECT v.version, v.effective_from, v.effective_to, v.currency, 'facility_fee', f.module_id, NULL, NULL, NULL,
       f.amount, v.config_hash
FROM versions AS v
JOIN config.rate_card_facility_fee AS f ON f.config_hash = v.config_hash AND f.version = v.version
UNION ALL
SELECT v.version, v.effective_from, v.effective_to, v.currency, 'variable', t.metric, t.tier_number, t.lower_bound,
       t.up_to, t.unit_price, v.config_hash
FROM versions AS v
JOIN config.rate_card_variable_tiers AS t ON t.config_hash = v.config_hash AND t.version = v.version
UNION ALL
SELECT v.version, v.effective_from, v.effective_to, v.currency, 'pass_through_markup_pct', NULL, NULL, NULL, NULL,
       v.pass_through_markup_pct, v.config_hash
FROM versions AS v;
