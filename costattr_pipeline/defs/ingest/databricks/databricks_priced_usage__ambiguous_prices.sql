-- Usage records of the window with two equally good list prices (e.g. the same SKU listed in two
-- currencies, or for two clouds while the record names none): pricing them would be a guess.
-- The ties are found per price segment (databricks_priced_usage__tables.sql), then the records in those segments listed.
WITH best AS (
    SELECT sku_name, cloud, account_id, segment_start, segment_end
    FROM metering.databricks_price_segments
    QUALIFY RANK() OVER (PARTITION BY sku_name, cloud, account_id, segment_start ORDER BY match_rank) = 1
),
tied AS (
    SELECT sku_name, cloud, account_id, segment_start, segment_end, COUNT(*) AS prices
    FROM best
    GROUP BY sku_name, cloud, account_id, segment_start, segment_end
    HAVING COUNT(*) > 1
)
SELECT u.record_id, u.usage_date, u.sku_name, u.cloud, u.account_id, u.usage_start_time, t.prices
FROM metering.databricks_usage AS u
JOIN tied AS t
  ON t.sku_name = u.sku_name
 AND t.cloud IS NOT DISTINCT FROM u.cloud
 AND t.account_id IS NOT DISTINCT FROM u.account_id
 AND t.segment_start <= u.usage_start_time
 AND (t.segment_end IS NULL OR u.usage_start_time < t.segment_end)
WHERE u.usage_date >= :start_date AND u.usage_date < :end_date
ORDER BY u.usage_date, u.record_id
LIMIT 5
