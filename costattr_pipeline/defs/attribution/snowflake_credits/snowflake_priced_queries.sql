-- Every query of the window with the credit price in force on its day and warehouse (the
-- warehouse's own price first, else the general one; NULL when none is in force). Both query-cost
-- reports read it as the relation `priced_queries`.
SELECT CAST(DATE_TRUNC('month', CAST(q.start_time AS DATE)) AS DATE) AS month_start,
       q.query_id, q.root_query_id, q.query_parameterized_hash, q.user_name, q.warehouse_name,
       q.start_time, q.end_time,
       CAST(q.credits_attributed_compute AS DECIMAL(38, 12)) AS credits,
       COALESCE(specific.price, general.price) AS price
FROM account_usage.query_attribution_history AS q
LEFT JOIN config.snowflake_credit_price AS specific
  ON UPPER(specific.warehouse_name) = UPPER(q.warehouse_name)
 AND CAST(q.start_time AS DATE) >= specific.effective_from
 AND (specific.effective_to IS NULL OR CAST(q.start_time AS DATE) < specific.effective_to)
LEFT JOIN config.snowflake_credit_price AS general
  ON general.warehouse_name IS NULL
 AND CAST(q.start_time AS DATE) >= general.effective_from
 AND (general.effective_to IS NULL OR CAST(q.start_time AS DATE) < general.effective_to)
WHERE q.start_time >= :start_date AND q.start_time < :end_date
