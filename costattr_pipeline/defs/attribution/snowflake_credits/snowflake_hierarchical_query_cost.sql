-- Cost of hierarchical queries (Snowflake's cost-attribution guide): every query tree (a stored procedure
-- or a script and the statements it ran) rolled up by COALESCE(ROOT_QUERY_ID, QUERY_ID) per calendar month
-- of each query's start; only trees with at least one child, replacing the run's months.
DELETE FROM metering.snowflake_hierarchical_query_cost
WHERE month_start >= :start_date AND month_start < :end_date;

INSERT INTO metering.snowflake_hierarchical_query_cost
WITH trees AS (
    SELECT priced_queries.*, COALESCE(root_query_id, query_id) AS tree_id
    FROM priced_queries
    -- Only trees with a child in the window can qualify: the other queries are not grouped at all.
    WHERE COALESCE(root_query_id, query_id) IN (
        SELECT child.root_query_id
        FROM account_usage.query_attribution_history AS child
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
FROM trees
GROUP BY month_start, tree_id
HAVING SUM(CASE WHEN root_query_id IS NOT NULL AND root_query_id <> query_id THEN 1 ELSE 0 END) > 0;
