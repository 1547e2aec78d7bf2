-- External API costs as charged by the providers, in USD (the markup is revenue, not cost). A cost
-- without a USD rate is left out (its own blocking check fails), never counted unconverted.
SELECT cost_date, tenant_id, module_id, 'external_api' AS resource_type,
       CAST(amount_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.v_external_api_costs
WHERE cost_date >= :start_date AND cost_date < :end_date AND amount_usd IS NOT NULL
