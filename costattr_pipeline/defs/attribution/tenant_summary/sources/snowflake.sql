-- Snowflake: credits priced per day and warehouse; idle and untagged rows have no tenant.
SELECT cost_date, tenant_id, CAST(NULL AS VARCHAR) AS module_id, 'snowflake' AS resource_type,
       CAST(cost_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.v_snowflake_credit_daily
WHERE cost_date >= :start_date AND cost_date < :end_date
