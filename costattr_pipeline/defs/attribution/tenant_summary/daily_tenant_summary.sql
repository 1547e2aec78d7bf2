-- Daily tenant summary (contract section 5), replacing the run's window. The source rows are the
-- relation cost_source_rows: the UNION ALL of the fragments in sources/ whose tables exist (see daily_tenant_summary.py).
DELETE FROM metering.daily_tenant_summary
WHERE cost_date >= :start_date AND cost_date < :end_date;

INSERT INTO metering.daily_tenant_summary (cost_date, tenant_id, module_id, resource_type, cost_usd)
SELECT cost_date, tenant_id, module_id, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18)))
FROM cost_source_rows
GROUP BY cost_date, tenant_id, module_id, resource_type;
