CREATE SCHEMA IF NOT EXISTS config;

-- settings.yaml snowflake.credit_price_usd, replaced on each run. warehouse_name NULL: the general price.
CREATE TABLE IF NOT EXISTS config.snowflake_credit_price (
    effective_from DATE NOT NULL,           -- first day in force (inclusive)
    effective_to   DATE,                    -- first day no longer in force (exclusive); NULL: open
    warehouse_name VARCHAR,                 -- NULL: every warehouse without its own price
    price          DECIMAL(18, 6) NOT NULL  -- USD per Snowflake credit, exact (6 decimals)
);
