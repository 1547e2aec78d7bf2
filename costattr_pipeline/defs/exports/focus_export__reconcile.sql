-- Days and resource types of the window where the export does not add up to daily_tenant_summary.
WITH exported AS (
    SELECT cost_date, x_CostattrResourceType AS resource_type, SUM(CAST(x_CountedCost AS DECIMAL(38, 18))) AS export_usd
    FROM metering.focus_export
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, x_CostattrResourceType
),
summarized AS (
    SELECT cost_date, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS summary_usd
    FROM metering.v_daily_tenant_summary
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date, resource_type
)
SELECT COALESCE(e.cost_date, s.cost_date) AS cost_date, COALESCE(e.resource_type, s.resource_type) AS resource_type,
       e.export_usd, s.summary_usd
FROM exported AS e
FULL OUTER JOIN summarized AS s ON s.cost_date = e.cost_date AND s.resource_type = e.resource_type
WHERE e.export_usd IS NULL OR s.summary_usd IS NULL OR e.export_usd <> s.summary_usd
ORDER BY 1, 2
LIMIT 20
