-- (day, warehouse) pairs of the window where the written rows do not reconcile with the metering:
-- credits that do not add up to M, a negative part, a price that differs within the day, or a cost
-- that does not add up to ROUND(credits x price, 6).
WITH metered AS (
    SELECT * FROM metered_credits  -- M per day and warehouse (snowflake_metered_credits.sql)
),
written AS (
    SELECT cost_date, warehouse_name,
           SUM(CAST(credits AS DECIMAL(38, 12))) AS credits,
           MIN(credits) AS smallest_part,
           MIN(credit_price_usd) AS lowest_price,
           MAX(credit_price_usd) AS highest_price,
           SUM(CAST(cost_usd AS DECIMAL(38, 6))) AS cost_usd
    FROM metering.snowflake_credit_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, warehouse_name
)
SELECT COALESCE(m.cost_date, w.cost_date) AS cost_date,
       COALESCE(m.warehouse_name, w.warehouse_name) AS warehouse_name,
       m.metered_credits, w.credits AS attributed_credits, w.smallest_part, w.cost_usd
FROM metered AS m
FULL OUTER JOIN written AS w ON w.cost_date = m.cost_date AND w.warehouse_name = m.warehouse_name
WHERE COALESCE(m.metered_credits, 0) <> COALESCE(w.credits, 0)
   OR w.smallest_part < 0
   OR w.lowest_price <> w.highest_price
   OR w.cost_usd <> ROUND(w.credits * w.highest_price, 6)
ORDER BY 1, 2
LIMIT 20
