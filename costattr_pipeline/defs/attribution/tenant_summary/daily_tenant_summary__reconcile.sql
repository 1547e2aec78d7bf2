-- Days and sources of the window where the summary does not add up to the source's total (cost_source_totals:
-- each source's own total, read without the joins that attribute it): missing on either side, or a different
-- amount. Empty when everything reconciles.
WITH source_totals AS (
    SELECT cost_date, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS source_usd
    FROM cost_source_totals
    GROUP BY cost_date, resource_type
),
summary_totals AS (
    SELECT cost_date, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS summary_usd
    FROM metering.daily_tenant_summary
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, resource_type
)
SELECT COALESCE(s.cost_date, m.cost_date) AS cost_date,
       COALESCE(s.resource_type, m.resource_type) AS resource_type,
       s.source_usd, m.summary_usd
FROM source_totals AS s
FULL OUTER JOIN summary_totals AS m ON m.cost_date = s.cost_date AND m.resource_type = s.resource_type
WHERE s.source_usd IS NULL OR m.summary_usd IS NULL OR s.source_usd <> m.summary_usd
ORDER BY 1, 2
LIMIT 20
