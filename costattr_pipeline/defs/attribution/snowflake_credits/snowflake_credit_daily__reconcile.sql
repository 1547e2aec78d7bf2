-- Where the written rows of the window do not reconcile with what Snowflake bills (empty: all good):
--   per (day, warehouse): the compute rows add up to the metered CREDITS_USED_COMPUTE (M), the
--   query-acceleration rows to the queries' CREDITS_USED_QUERY_ACCELERATION, no part is negative, one
--   price, and the costs add up to ROUND(credits x price, 6);
--   per day: the cloud-services rows add up to the billed cloud services (above 10 % of compute).
WITH metered AS (
    SELECT * FROM metered_credits  -- M per day and warehouse (snowflake_metered_credits.sql)
),
accelerated AS (
    SELECT CAST(start_time AS DATE) AS cost_date, warehouse_name,
           SUM(CAST(COALESCE(credits_used_query_acceleration, 0) AS DECIMAL(38, 12))) AS acceleration_credits
    FROM account_usage.query_attribution_history
    WHERE start_time >= :start_date AND start_time < :end_date
    GROUP BY CAST(start_time AS DATE), warehouse_name
),
expected AS (
    SELECT COALESCE(m.cost_date, a.cost_date) AS cost_date,
           COALESCE(m.warehouse_name, a.warehouse_name) AS warehouse_name,
           COALESCE(m.metered_credits, 0) AS compute_credits,
           COALESCE(a.acceleration_credits, 0) AS acceleration_credits
    FROM metered AS m
    FULL OUTER JOIN accelerated AS a ON a.cost_date = m.cost_date AND a.warehouse_name = m.warehouse_name
),
written AS (
    SELECT cost_date, warehouse_name,
           SUM(CAST(CASE WHEN attribution IN ('dedicated', 'proportional', 'unattributed', 'idle')
                         THEN credits ELSE 0 END AS DECIMAL(38, 12))) AS compute_credits,
           SUM(CAST(CASE WHEN attribution = 'query_acceleration' THEN credits ELSE 0 END AS DECIMAL(38, 12)))
               AS acceleration_credits,
           SUM(CAST(credits AS DECIMAL(38, 12))) AS credits,
           MIN(credits) AS smallest_part,
           MIN(credit_price_usd) AS lowest_price,
           MAX(credit_price_usd) AS highest_price,
           SUM(CAST(cost_usd AS DECIMAL(38, 6))) AS cost_usd
    FROM metering.v_snowflake_credit_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, warehouse_name
),
warehouse_mismatches AS (
    SELECT COALESCE(e.cost_date, w.cost_date) AS cost_date,
           COALESCE(e.warehouse_name, w.warehouse_name) AS warehouse_name,
           e.compute_credits AS metered_credits, w.compute_credits AS attributed_credits,
           e.acceleration_credits AS metered_acceleration, w.acceleration_credits AS attributed_acceleration,
           w.smallest_part, w.cost_usd
    FROM expected AS e
    FULL OUTER JOIN written AS w ON w.cost_date = e.cost_date AND w.warehouse_name = e.warehouse_name
    WHERE COALESCE(e.compute_credits, 0) <> COALESCE(w.compute_credits, 0)
       OR COALESCE(e.acceleration_credits, 0) <> COALESCE(w.acceleration_credits, 0)
       OR w.smallest_part < 0
       OR w.lowest_price <> w.highest_price
       OR w.cost_usd <> ROUND(w.credits * w.highest_price, 6)
),
cloud_services AS (
    SELECT cost_date, billed_cloud_services FROM billed_cloud_services
),
cloud_services_written AS (
    SELECT cost_date, SUM(CAST(credits AS DECIMAL(38, 12))) AS credits
    FROM metering.v_snowflake_credit_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date AND attribution = 'cloud_services'
    GROUP BY cost_date
),
day_mismatches AS (
    SELECT COALESCE(c.cost_date, w.cost_date) AS cost_date, 'cloud services' AS warehouse_name,
           c.billed_cloud_services AS metered_credits, w.credits AS attributed_credits,
           CAST(NULL AS DECIMAL(38, 12)) AS metered_acceleration, CAST(NULL AS DECIMAL(38, 12)) AS attributed_acceleration,
           CAST(NULL AS DECIMAL(38, 12)) AS smallest_part, CAST(NULL AS DECIMAL(38, 6)) AS cost_usd
    FROM cloud_services AS c
    FULL OUTER JOIN cloud_services_written AS w ON w.cost_date = c.cost_date
    WHERE COALESCE(c.billed_cloud_services, 0) <> COALESCE(w.credits, 0)
)
SELECT * FROM warehouse_mismatches
UNION ALL
SELECT * FROM day_mismatches
ORDER BY 1, 2
LIMIT 20
