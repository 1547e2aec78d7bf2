-- Snowflake credits per UTC day, warehouse and tenant (contract section 4, FR-394), replacing the run's window.
-- The three source relations are the ACCOUNT_USAGE views (in place in Snowflake) or the landed exports (locally).
-- Credit sums cast their argument: the result stays an exact decimal on every engine.
DELETE FROM metering.snowflake_credit_daily
WHERE cost_date >= :start_date AND cost_date < :end_date;

INSERT INTO metering.snowflake_credit_daily
    (cost_date, warehouse_name, tenant_id, attribution, credits, credit_price_usd, cost_usd)
WITH metered AS (
    SELECT * FROM metered_credits  -- M per day and warehouse (snowflake_metered_credits.sql)
),
tenant_tags AS (
    -- The tenant object tag on warehouses and users; dropped tags and objects (OBJECT_DELETED) are ignored.
    SELECT UPPER(domain) AS domain, object_name, MIN(TRIM(tag_value)) AS tenant_id
    FROM account_usage.tag_references
    WHERE UPPER(tag_name) = UPPER(:tenant_tag)
      AND UPPER(domain) IN ('WAREHOUSE', 'USER')
      AND object_deleted IS NULL
      AND NULLIF(TRIM(tag_value), '') IS NOT NULL
    GROUP BY UPPER(domain), object_name
),
queries AS (
    -- A query's tenant: its query tag (JSON object or KEY=value pairs), else its user's tag, else none.
    SELECT CAST(q.start_time AS DATE) AS cost_date,
           q.warehouse_name,
           COALESCE(
               CASE WHEN LTRIM(q.query_tag) LIKE '{%'
                    THEN NULLIF(TRIM(regexp_extract(q.query_tag, :json_tag_pattern, 1)), '')
                    ELSE NULLIF(TRIM(regexp_extract(q.query_tag, :pair_tag_pattern, 2)), '') END,
               u.tenant_id) AS tenant_id,
           CAST(q.credits_attributed_compute AS DECIMAL(38, 12)) AS credits
    FROM account_usage.query_attribution_history AS q
    LEFT JOIN tenant_tags AS u ON u.domain = 'USER' AND u.object_name = q.user_name
    WHERE q.start_time >= :start_date AND q.start_time < :end_date
),
query_credits AS (
    -- A_t: the tenant's query credits on the warehouse that day (tenant NULL: queries without a tenant).
    SELECT cost_date, warehouse_name, tenant_id, SUM(CAST(credits AS DECIMAL(38, 12))) AS query_credits
    FROM queries
    GROUP BY cost_date, warehouse_name, tenant_id
),
query_totals AS (
    -- A: all query credits on the warehouse that day.
    SELECT cost_date, warehouse_name, SUM(CAST(query_credits AS DECIMAL(38, 12))) AS query_total
    FROM query_credits
    GROUP BY cost_date, warehouse_name
),
warehouse_days AS (
    -- How each metered (day, warehouse) is split. Under `separate`, A > M (late or restated metering)
    -- cannot leave a negative idle part: the day is scaled like `proportional` instead.
    SELECT m.cost_date, m.warehouse_name, m.metered_credits, w.tenant_id AS dedicated_tenant,
           COALESCE(t.query_total, 0) AS query_total,
           CASE WHEN w.tenant_id IS NOT NULL THEN 'dedicated'
                WHEN COALESCE(t.query_total, 0) <= 0 THEN 'idle'
                WHEN :idle_policy = 'separate' AND t.query_total <= m.metered_credits THEN 'separate'
                ELSE 'proportional' END AS split
    FROM metered AS m
    LEFT JOIN tenant_tags AS w ON w.domain = 'WAREHOUSE' AND w.object_name = m.warehouse_name
    LEFT JOIN query_totals AS t ON t.cost_date = m.cost_date AND t.warehouse_name = m.warehouse_name
),
estimated_parts AS (
    -- k: M x A_t / A in units of 1e-9 credit, estimated in DOUBLE (off by at most one unit for M < 1e6).
    SELECT d.cost_date, d.warehouse_name, d.split, d.metered_credits, d.query_total, q.tenant_id, q.query_credits,
           CAST(FLOOR(CAST(d.metered_credits AS DOUBLE) * CAST(q.query_credits AS DOUBLE)
                      / CAST(d.query_total AS DOUBLE) * 1000000000) AS DECIMAL(38, 0)) AS k
    FROM warehouse_days AS d
    JOIN query_credits AS q ON q.cost_date = d.cost_date AND q.warehouse_name = d.warehouse_name
    WHERE d.split IN ('separate', 'proportional')
),
floored_parts AS (
    -- The exact floor of M x A_t / A at 1e-9, decided by exact decimal multiplication (no division).
    SELECT cost_date, warehouse_name, split, metered_credits, tenant_id, query_credits,
           CASE WHEN split = 'separate' THEN query_credits
                WHEN (k + 1) * CAST(0.000000001 AS DECIMAL(38, 9)) * query_total <= metered_credits * query_credits
                    THEN (k + 1) * CAST(0.000000001 AS DECIMAL(38, 9))
                WHEN k * CAST(0.000000001 AS DECIMAL(38, 9)) * query_total <= metered_credits * query_credits
                    THEN k * CAST(0.000000001 AS DECIMAL(38, 9))
                ELSE (k - 1) * CAST(0.000000001 AS DECIMAL(38, 9)) END AS part
    FROM estimated_parts
),
ranked_parts AS (
    -- The floors leave a residue (0 <= residue < one unit per part); it goes to the largest share,
    -- ties to the tenant that sorts first, queries without a tenant last.
    SELECT cost_date, warehouse_name, split, metered_credits, tenant_id, part,
           ROW_NUMBER() OVER (PARTITION BY cost_date, warehouse_name
                              ORDER BY query_credits DESC, tenant_id ASC NULLS LAST) AS share_rank,
           SUM(CAST(part AS DECIMAL(38, 12))) OVER (PARTITION BY cost_date, warehouse_name) AS parts_total
    FROM floored_parts
),
credit_rows AS (
    SELECT cost_date, warehouse_name, dedicated_tenant AS tenant_id, 'dedicated' AS attribution,
           metered_credits AS credits
    FROM warehouse_days WHERE split = 'dedicated'
    UNION ALL
    SELECT cost_date, warehouse_name, NULL, 'idle', metered_credits
    FROM warehouse_days WHERE split = 'idle'
    UNION ALL
    SELECT cost_date, warehouse_name, NULL, 'idle', metered_credits - query_total
    FROM warehouse_days WHERE split = 'separate'
    UNION ALL
    SELECT cost_date, warehouse_name, tenant_id,
           CASE WHEN tenant_id IS NULL THEN 'unattributed' ELSE 'proportional' END,
           part + CASE WHEN split = 'proportional' AND share_rank = 1 THEN metered_credits - parts_total ELSE 0 END
    FROM ranked_parts
),
priced_rows AS (
    -- The price in force that day: the warehouse's own price first, else the general one.
    SELECT r.cost_date, r.warehouse_name, r.tenant_id, r.attribution,
           CAST(r.credits AS DECIMAL(38, 12)) AS credits,
           COALESCE(specific.price, general.price) AS price
    FROM credit_rows AS r
    LEFT JOIN config.snowflake_credit_price AS specific
      ON UPPER(specific.warehouse_name) = UPPER(r.warehouse_name)
     AND r.cost_date >= specific.effective_from
     AND (specific.effective_to IS NULL OR r.cost_date < specific.effective_to)
    LEFT JOIN config.snowflake_credit_price AS general
      ON general.warehouse_name IS NULL
     AND r.cost_date >= general.effective_from
     AND (general.effective_to IS NULL OR r.cost_date < general.effective_to)
    WHERE r.credits <> 0
),
costed_rows AS (
    -- cost = credits x price, floored to micro-dollars; the day's whole cost ROUND(M x price, 6)
    -- (half away from zero) minus the floors goes to the row with the most credits.
    SELECT cost_date, warehouse_name, tenant_id, attribution, credits, price,
           CAST(FLOOR(credits * price * 1000000) AS DECIMAL(38, 0)) * CAST(0.000001 AS DECIMAL(38, 6)) AS cost_floor,
           ROUND(SUM(CAST(credits * price AS DECIMAL(38, 18))) OVER (PARTITION BY cost_date, warehouse_name), 6)
               AS warehouse_day_cost,
           ROW_NUMBER() OVER (PARTITION BY cost_date, warehouse_name
                              ORDER BY credits DESC, tenant_id ASC NULLS LAST, attribution) AS cost_rank
    FROM priced_rows
)
SELECT cost_date, warehouse_name, tenant_id, attribution, credits, price,
       CAST(cost_floor + CASE WHEN cost_rank = 1
                              THEN warehouse_day_cost
                                   - SUM(CAST(cost_floor AS DECIMAL(38, 6))) OVER (PARTITION BY cost_date, warehouse_name)
                              ELSE 0 END AS DECIMAL(38, 6))
FROM costed_rows;
