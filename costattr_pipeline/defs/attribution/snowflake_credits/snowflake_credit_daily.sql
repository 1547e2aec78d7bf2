-- Snowflake credits per UTC day, warehouse and tenant (contract section 4, FR-394), as Snowflake bills
-- them, replacing the run's window. The sources are the ACCOUNT_USAGE views (in place in Snowflake) or
-- the landed exports (locally); `metered_credits` is M per day and warehouse (snowflake_metered_credits.sql).
-- Every split goes through the project's one largest-remainder rule (relations `credit_parts`,
-- `cloud_services_parts`, `cost_parts`: lib/largest_remainder.sql over the `*_split_input` CTEs).
-- Credit sums cast their argument: the result stays an exact decimal on every engine. The rows are staged;
-- snowflake_credit_daily__append.sql appends the days that changed as a new version (the table is append-only).
DELETE FROM metering.snowflake_credit_daily_staged;

INSERT INTO metering.snowflake_credit_daily_staged
    (cost_date, warehouse_name, tenant_id, attribution, credits, credit_price_usd, cost_usd)
WITH metered AS (
    SELECT * FROM metered_credits
),
warehouse_tenants AS (
    -- A warehouse carrying the tenant tag is dedicated. The tag is matched on the warehouse's id when
    -- both sides have one (a renamed warehouse keeps its tag), else on its name.
    SELECT m.warehouse_name, MIN(w.tenant_id) AS tenant_id
    FROM (SELECT warehouse_name, warehouse_id FROM metered
          UNION
          SELECT warehouse_name, warehouse_id FROM account_usage.query_attribution_history
          WHERE start_time >= :start_date AND start_time < :end_date) AS m
    JOIN object_tenant_tags AS w
      ON w.domain = 'WAREHOUSE'
     AND CASE WHEN m.warehouse_id IS NOT NULL AND w.object_id IS NOT NULL THEN w.object_id = m.warehouse_id
              ELSE w.object_name = m.warehouse_name END
    GROUP BY m.warehouse_name
),
queries AS (
    -- A query's tenant: its query tag (JSON object or KEY=value pairs), else its user's tag, else none.
    SELECT CAST(q.start_time AS DATE) AS cost_date,
           q.warehouse_name,
           q.warehouse_id,
           COALESCE(
               CASE WHEN LTRIM(q.query_tag) LIKE '{%'
                    THEN NULLIF(TRIM(regexp_extract(q.query_tag, :json_tag_pattern, 1)), '')
                    ELSE NULLIF(TRIM(regexp_extract(q.query_tag, :pair_tag_pattern, 2)), '') END,
               u.tenant_id) AS tenant_id,
           CAST(q.credits_attributed_compute AS DECIMAL(38, 12)) AS credits,
           CAST(COALESCE(q.credits_used_query_acceleration, 0) AS DECIMAL(38, 12)) AS acceleration_credits
    FROM account_usage.query_attribution_history AS q
    LEFT JOIN object_tenant_tags AS u ON u.domain = 'USER' AND u.object_name = q.user_name
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
    LEFT JOIN warehouse_tenants AS w ON w.warehouse_name = m.warehouse_name
    LEFT JOIN query_totals AS t ON t.cost_date = m.cost_date AND t.warehouse_name = m.warehouse_name
),
credit_split_input AS (
    -- Under `proportional`, tenant t's exact part of M is M x A_t / A.
    SELECT CAST(d.cost_date AS VARCHAR) || '|' || d.warehouse_name AS split_group,
           q.tenant_id AS split_item, CAST(NULL AS VARCHAR) AS split_subitem,
           d.metered_credits * q.query_credits AS numerator, d.query_total AS denominator,
           d.metered_credits AS rounded_total, CAST(0.000000001 AS DECIMAL(38, 9)) AS split_unit,
           d.cost_date, d.warehouse_name, q.tenant_id
    FROM warehouse_days AS d
    JOIN query_credits AS q ON q.cost_date = d.cost_date AND q.warehouse_name = d.warehouse_name
    WHERE d.split = 'proportional'
),
compute_rows AS (
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
    SELECT d.cost_date, d.warehouse_name, q.tenant_id,
           CASE WHEN q.tenant_id IS NULL THEN 'unattributed' ELSE 'proportional' END, q.query_credits
    FROM warehouse_days AS d
    JOIN query_credits AS q ON q.cost_date = d.cost_date AND q.warehouse_name = d.warehouse_name
    WHERE d.split = 'separate'
    UNION ALL
    SELECT cost_date, warehouse_name, tenant_id,
           CASE WHEN tenant_id IS NULL THEN 'unattributed' ELSE 'proportional' END, split_part
    FROM credit_parts
),
cloud_services_days AS (
    SELECT * FROM billed_cloud_services  -- per day (snowflake_billed_cloud_services.sql)
),
cloud_services_split_input AS (
    -- The billed cloud services of a day go to its compute rows in proportion to their credits: each
    -- tenant (and the day's unattributed and idle credits) pays its share of the adjustment.
    SELECT CAST(c.cost_date AS VARCHAR) AS split_group,
           r.tenant_id AS split_item, r.warehouse_name AS split_subitem,
           c.billed_cloud_services * r.credits AS numerator, c.compute_credits AS denominator,
           c.billed_cloud_services AS rounded_total, CAST(0.000000001 AS DECIMAL(38, 9)) AS split_unit,
           r.cost_date, r.warehouse_name, r.tenant_id
    FROM (SELECT cost_date, warehouse_name, tenant_id, SUM(CAST(credits AS DECIMAL(38, 12))) AS credits
          FROM compute_rows GROUP BY cost_date, warehouse_name, tenant_id) AS r
    JOIN cloud_services_days AS c ON c.cost_date = r.cost_date
    WHERE c.billed_cloud_services > 0 AND c.compute_credits > 0
),
acceleration_rows AS (
    -- Query-acceleration credits go to the query's tenant (the warehouse's, on a dedicated warehouse).
    SELECT q.cost_date, q.warehouse_name, COALESCE(w.tenant_id, q.tenant_id) AS tenant_id,
           SUM(q.acceleration_credits) AS credits
    FROM queries AS q
    LEFT JOIN warehouse_tenants AS w ON w.warehouse_name = q.warehouse_name
    WHERE q.acceleration_credits <> 0
    GROUP BY q.cost_date, q.warehouse_name, COALESCE(w.tenant_id, q.tenant_id)
),
credit_rows AS (
    SELECT cost_date, warehouse_name, tenant_id, attribution, credits FROM compute_rows
    UNION ALL
    SELECT cost_date, warehouse_name, tenant_id, 'cloud_services', split_part FROM cloud_services_parts
    UNION ALL
    -- A day whose cloud services ran without any compute: billed whole, per warehouse, to no tenant.
    SELECT m.cost_date, m.warehouse_name, NULL, 'cloud_services', m.cloud_services_credits
    FROM metered AS m
    JOIN cloud_services_days AS c ON c.cost_date = m.cost_date
    WHERE c.compute_credits = 0
    UNION ALL
    SELECT cost_date, warehouse_name, tenant_id, 'query_acceleration', credits FROM acceleration_rows
),
priced_rows AS (
    -- The price in force that day: the warehouse's own price first, else the general one.
    SELECT r.cost_date, r.warehouse_name, r.tenant_id,
           r.attribution,
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
cost_split_input AS (
    -- cost_usd: the warehouse-day's cost ROUND(credits x price, 6) (half away from zero), split so that
    -- each row is within a micro-dollar of its credits x price. No price: no cost (NULL, never 0).
    SELECT CAST(cost_date AS VARCHAR) || '|' || warehouse_name AS split_group,
           tenant_id AS split_item, attribution AS split_subitem,
           credits * price AS numerator, CAST(1 AS DECIMAL(38, 0)) AS denominator,
           ROUND(SUM(CAST(credits * price AS DECIMAL(38, 18))) OVER (PARTITION BY cost_date, warehouse_name), 6)
               AS rounded_total,
           CAST(0.000001 AS DECIMAL(38, 6)) AS split_unit,
           cost_date, warehouse_name, tenant_id, attribution, credits, price
    FROM priced_rows
    WHERE price IS NOT NULL
)
SELECT cost_date, warehouse_name, tenant_id, attribution, credits, price, CAST(split_part AS DECIMAL(38, 6))
FROM cost_parts
UNION ALL
SELECT cost_date, warehouse_name, tenant_id, attribution, credits, price, NULL
FROM priced_rows
WHERE price IS NULL;
