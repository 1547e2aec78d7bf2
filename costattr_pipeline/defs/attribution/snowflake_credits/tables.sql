CREATE SCHEMA IF NOT EXISTS metering;
CREATE SCHEMA IF NOT EXISTS config;

-- settings.yaml snowflake.credit_price_usd, replaced on each run. warehouse_name NULL: the general price.
CREATE TABLE IF NOT EXISTS config.snowflake_credit_price (
    effective_from DATE NOT NULL,
    effective_to   DATE,                    -- NULL: open
    warehouse_name VARCHAR,                 -- NULL: every warehouse without its own price
    price          DECIMAL(18, 6) NOT NULL
);

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

-- Snowflake's "cost of recurring queries": the top queries by QUERY_PARAMETERIZED_HASH per calendar month.
CREATE TABLE IF NOT EXISTS metering.snowflake_recurring_query_cost (
    month_start              DATE NOT NULL,
    cost_rank                INTEGER NOT NULL,   -- 1 = the most expensive in the month
    query_parameterized_hash VARCHAR NOT NULL,
    query_count              BIGINT NOT NULL,
    warehouse_count          BIGINT NOT NULL,
    user_count               BIGINT NOT NULL,
    credits                  DECIMAL(38, 12) NOT NULL,
    cost_usd                 DECIMAL(38, 6),     -- NULL when a query's day has no credit price
    first_started_at         TIMESTAMP NOT NULL,
    last_started_at          TIMESTAMP NOT NULL
);

-- Snowflake's "cost of hierarchical queries": every query tree (a stored procedure and what it ran),
-- rolled up by ROOT_QUERY_ID per calendar month of each query's start.
CREATE TABLE IF NOT EXISTS metering.snowflake_hierarchical_query_cost (
    month_start      DATE NOT NULL,
    root_query_id    VARCHAR NOT NULL,
    root_user_name   VARCHAR,
    query_count      BIGINT NOT NULL,            -- the root (when it used a warehouse) and its descendants
    warehouse_count  BIGINT NOT NULL,
    credits          DECIMAL(38, 12) NOT NULL,
    cost_usd         DECIMAL(38, 6),
    first_started_at TIMESTAMP NOT NULL,
    last_ended_at    TIMESTAMP
);
