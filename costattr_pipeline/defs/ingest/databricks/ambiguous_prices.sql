-- Usage records of the window with two equally good list prices (e.g. the same SKU listed in two
-- currencies, or for two clouds while the record names none): pricing them would be a guess.
WITH best AS (
    SELECT *
    FROM metering.databricks_price_candidates
    WHERE usage_date >= :start_date AND usage_date < :end_date
    QUALIFY RANK() OVER (PARTITION BY record_id ORDER BY match_rank) = 1
)
SELECT record_id, usage_date, sku_name, cloud, account_id, usage_start_time, COUNT(*) AS prices
FROM best
GROUP BY record_id, usage_date, sku_name, cloud, account_id, usage_start_time
HAVING COUNT(*) > 1
ORDER BY usage_date, record_id
LIMIT 5
