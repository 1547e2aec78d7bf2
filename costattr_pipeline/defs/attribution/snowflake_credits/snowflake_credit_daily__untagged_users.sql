-- Users who ran queries in the window and carry no tenant tag (Snowflake's "untagged users"): their
-- queries have a tenant only through a query tag. `credits_without_tenant` is what none of their queries'
-- tags named a tenant for (on shared warehouses it ends up `unattributed`).
WITH user_tags AS (
    SELECT DISTINCT object_name FROM object_tenant_tags WHERE domain = 'USER'
),
queries AS (
    SELECT q.user_name, q.warehouse_name,
           CASE WHEN LTRIM(q.query_tag) LIKE '{%'
                THEN NULLIF(TRIM(regexp_extract(q.query_tag, :json_tag_pattern, 1)), '')
                ELSE NULLIF(TRIM(regexp_extract(q.query_tag, :pair_tag_pattern, 2)), '') END AS tag_tenant,
           CAST(q.credits_attributed_compute AS DECIMAL(38, 12)) AS credits
    FROM account_usage.query_attribution_history AS q
    WHERE q.start_time >= :start_date AND q.start_time < :end_date
)
SELECT COALESCE(q.user_name, '') AS user_name,
       COUNT(*) AS query_count,
       COUNT(DISTINCT q.warehouse_name) AS warehouse_count,
       SUM(CAST(q.credits AS DECIMAL(38, 12))) AS credits,
       SUM(CAST(CASE WHEN q.tag_tenant IS NULL THEN q.credits ELSE 0 END AS DECIMAL(38, 12))) AS credits_without_tenant
FROM queries AS q
LEFT JOIN user_tags AS u ON u.object_name = q.user_name
WHERE u.object_name IS NULL
GROUP BY COALESCE(q.user_name, '')
ORDER BY credits_without_tenant DESC, user_name
LIMIT 100
