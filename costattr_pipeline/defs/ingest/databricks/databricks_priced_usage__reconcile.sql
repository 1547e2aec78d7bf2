-- Days of the window where the priced usage does not carry every landed record exactly once
-- with its quantity: record counts, distinct records or quantity totals differ.
WITH landed AS (
    SELECT usage_date, COUNT(*) AS records, SUM(CAST(usage_quantity AS DECIMAL(38, 18))) AS quantity
    FROM metering.databricks_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date
    GROUP BY usage_date
),
priced AS (
    SELECT usage_date, COUNT(*) AS records, COUNT(DISTINCT record_id) AS distinct_records,
           SUM(CAST(usage_quantity AS DECIMAL(38, 18))) AS quantity
    FROM metering.databricks_priced_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date
    GROUP BY usage_date
)
SELECT COALESCE(l.usage_date, p.usage_date) AS usage_date,
       l.records AS landed_records, p.records AS priced_records, p.distinct_records,
       l.quantity AS landed_quantity, p.quantity AS priced_quantity
FROM landed AS l
FULL OUTER JOIN priced AS p ON p.usage_date = l.usage_date
WHERE l.usage_date IS NULL OR p.usage_date IS NULL
   OR l.records <> p.records OR p.records <> p.distinct_records OR l.quantity <> p.quantity
ORDER BY 1
LIMIT 20
