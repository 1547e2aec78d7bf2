-- Cost of hierarchical queries (Snowflake's cost-attribution guide): every query tree (a stored procedure
-- or a script and the statements it ran) rolled up by COALESCE(ROOT_QUERY_ID, QUERY_ID) per calendar month
-- of each query's start; only trees with at least one child, replacing the run's months.
DELETE FROM metering.snowflake_hierarchical_query_cost
WHERE month_start >= :start_date AND month_start < :end_date;

INSERT INTO metering.snowflake_hierarchical_query_cost
WITH priced_queries AS (
    SELECT CAST(DATE_TRUNC('month', CAST(q.start_time AS DATE)) AS DATE) AS month_start,
           COALESCE(q.root_query_id, q.query_id) AS tree_id,
           q.query_id, q.root_query_id, q.user_name, q.warehouse_name, q.start_time, q.end_time,
           CAST(q.credits_attributed_compute AS DECIMAL(38, 12)) AS credits,
           COALESCE(specific.price, general.price) AS price
    FROM {{query_attribution_history}} AS q
    LEFT JOIN config.snowflake_credit_price AS specific
      ON UPPER(specific.warehouse_name) = UPPER(q.warehouse_name)
     AND CAST(q.start_time AS DATE) >= specific.effective_from
     AND (specific.effective_to IS NULL OR CAST(q.start_time AS DATE) < specific.effective_to)
    LEFT JOIN config.snowflake_credit_price AS general
      ON general.warehouse_name IS NULL
     AND CAST(q.start_time AS DATE) >= general.effective_from
     AND (general.effective_to IS NULL OR CAST(q.start_time AS DATE) < general.effective_to)
    WHERE q.start_time >= :start_date AND q.start_time < :end_date
      -- Only trees with a child in the window can qualify: the other queries are not grouped at all.
      AND COALESCE(q.root_query_id, q.query_id) IN (
          SELECT child.root_query_id
          FROM {{query_attribution_history}} AS child
          WHERE child.start_time >= :start_date AND child.start_time < :end_date
            AND child.root_query_id IS NOT NULL AND child.root_query_id <> child.query_id)
)
SELECT month_start, tree_id,
       COALESCE(MAX(CASE WHEN query_id = tree_id THEN user_name END), MIN(user_name)),
       COUNT(*),
       COUNT(DISTINCT warehouse_name),
       SUM(CAST(credits AS DECIMAL(38, 12))),
       CAST(CASE WHEN COUNT(price) = COUNT(*)
                 THEN ROUND(SUM(CAST(credits * price AS DECIMAL(38, 18))), 6) END AS DECIMAL(38, 6)),
       MIN(start_time),
       MAX(end_time)
FROM priced_queries
GROUP BY month_start, tree_id
HAVING SUM(CASE WHEN root_query_id IS NOT NULL AND root_query_id <> query_id THEN 1 ELSE 0 END) > 0;
