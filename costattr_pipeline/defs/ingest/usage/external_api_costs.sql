-- Replace the window's external API costs with the staged file's rows of those days.
DELETE FROM metering.external_api_costs
WHERE cost_date >= :start_date AND cost_date < :end_date;

INSERT INTO metering.external_api_costs (cost_date, tenant_id, module_id, provider, amount, currency)
SELECT cost_date, tenant_id, module_id, provider, amount, currency
FROM metering.external_api_costs_staging
WHERE cost_date >= :start_date AND cost_date < :end_date;

DELETE FROM metering.external_api_costs_staging;
