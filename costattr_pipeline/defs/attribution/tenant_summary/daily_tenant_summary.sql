-- Daily tenant summary (contract section 5), replacing the run's window. The source rows are the
-- relation cost_source_rows: the UNION ALL of the fragments in sources/ whose tables exist (see daily_tenant_summary.py).
DELETE FROM metering.daily_tenant_summary
WHERE cost_date >= :start_date AND cost_date < :end_date;

-- markup_usd: the cost x the markup of the source's cost model (relation cloud_markups: resource_type,
-- markup_fraction; cost models of source_type AWS, SNOWFLAKE, DATABRICKS), rounded to 18 decimals; the raw
-- cost_usd is never changed.
INSERT INTO metering.daily_tenant_summary (cost_date, tenant_id, module_id, resource_type, cost_usd, markup_usd)
SELECT s.cost_date, s.tenant_id, s.module_id, s.resource_type, s.cost_usd,
       CAST(ROUND(s.cost_usd * COALESCE(m.markup_fraction, 0), 18) AS DECIMAL(38, 18)) AS markup_usd
FROM (
    SELECT cost_date, tenant_id, module_id, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS cost_usd
    FROM cost_source_rows
    GROUP BY cost_date, tenant_id, module_id, resource_type
) AS s
LEFT JOIN cloud_markups AS m ON m.resource_type = s.resource_type;
