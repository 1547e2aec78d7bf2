CREATE SCHEMA IF NOT EXISTS metering;

-- Snowflake's "cost of recurring queries": the top queries by QUERY_PARAMETERIZED_HASH per calendar month.
CREATE TABLE IF NOT EXISTS metering.snowflake_recurring_query_cost (
    month_start              DATE NOT NULL,      -- first day of the calendar month (UTC) of the queries' start
    cost_rank                INTEGER NOT NULL,   -- 1 = the most expensive in the month
    query_parameterized_hash VARCHAR NOT NULL,   -- Snowflake's QUERY_PARAMETERIZED_HASH: the same query with other literals
    query_count              BIGINT NOT NULL,    -- queries with this hash started in the month
    warehouse_count          BIGINT NOT NULL,    -- distinct warehouses they ran on
    user_count               BIGINT NOT NULL,    -- distinct users who ran them
    credits                  DECIMAL(38, 12) NOT NULL, -- Snowflake credits attributed to the queries' compute, exact (12 decimals)
    cost_usd                 DECIMAL(38, 6),     -- USD, credits x the day's price, half away from zero to 6 decimals; NULL: a query's day has no price
    first_started_at         TIMESTAMP NOT NULL, -- UTC start of the month's first such query
    last_started_at          TIMESTAMP NOT NULL  -- UTC start of the month's last such query
);

-- Snowflake's "cost of hierarchical queries": every query tree (a stored procedure and what it ran),
-- rolled up by ROOT_QUERY_ID per calendar month of each query's start.
CREATE TABLE IF NOT EXISTS metering.snowflake_hierarchical_query_cost (
    month_start      DATE NOT NULL,              -- first day of the calendar month (UTC) of the queries' start
    root_query_id    VARCHAR NOT NULL,           -- the tree's root query (ROOT_QUERY_ID, e.g. the CALL of a stored procedure)
    root_user_name   VARCHAR,                    -- the user who ran the root query (else the first user of the tree)
    query_count      BIGINT NOT NULL,            -- the root (when it used a warehouse) and its descendants
    warehouse_count  BIGINT NOT NULL,            -- distinct warehouses the tree's queries ran on
    credits          DECIMAL(38, 12) NOT NULL,   -- Snowflake credits attributed to the tree's queries' compute, exact (12 decimals)
    cost_usd         DECIMAL(38, 6),             -- USD, credits x the day's price, half away from zero to 6 decimals; NULL: a query's day has no price
    first_started_at TIMESTAMP NOT NULL,         -- UTC start of the tree's first query in the month
    last_ended_at    TIMESTAMP                   -- UTC end of the tree's last query in the month; NULL: still running when exported
);
