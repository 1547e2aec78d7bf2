-- External API costs as charged by the providers (the markup is revenue, not cost).
SELECT cost_date, tenant_id, module_id, 'external_api' AS resource_type,
       CAST(amount AS DECIMAL(38, 18)) AS cost_usd
FROM metering.external_api_costs
WHERE cost_date >= :start_date AND cost_date < :end_date
