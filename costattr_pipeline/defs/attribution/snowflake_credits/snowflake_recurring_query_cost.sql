-- Cost of recurring queries (Snowflake's cost-attribution guide): queries grouped by
-- QUERY_PARAMETERIZED_HASH per calendar month, the :top_n most expensive kept, replacing the run's months.
DELETE FROM metering.snowflake_recurring_query_cost
WHERE month_start >= :start_date AND month_start < :end_date;

INSERT INTO metering.snowflake_recurring_query_cost
WITH priced AS (
    SELECT * FROM priced_queries WHERE query_parameterized_hash IS NOT NULL
),
per_hash AS (
    SELECT month_start, query_parameterized_hash,
           COUNT(*) AS query_count,
           COUNT(DISTINCT warehouse_name) AS warehouse_count,
           COUNT(DISTINCT user_name) AS user_count,
           SUM(CAST(credits AS DECIMAL(38, 12))) AS credits,
           -- NULL as soon as one query has no price: a partial cost would look complete.
           CASE WHEN COUNT(price) = COUNT(*)
                THEN ROUND(SUM(CAST(credits * price AS DECIMAL(38, 18))), 6) END AS cost_usd,
           MIN(start_time) AS first_started_at,
           MAX(start_time) AS last_started_at
    FROM priced
    GROUP BY month_start, query_parameterized_hash
),
ranked AS (
    SELECT per_hash.*,
           ROW_NUMBER() OVER (PARTITION BY month_start
                              ORDER BY cost_usd DESC NULLS LAST, credits DESC, query_parameterized_hash) AS cost_rank
    FROM per_hash
)
SELECT month_start, cost_rank, query_parameterized_hash, query_count, warehouse_count, user_count, credits,
       CAST(cost_usd AS DECIMAL(38, 6)),
       first_started_at, last_started_at
FROM ranked
WHERE cost_rank <= :top_n;
