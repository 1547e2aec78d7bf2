CREATE SCHEMA IF NOT EXISTS metering;

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
