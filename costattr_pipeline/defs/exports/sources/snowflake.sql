-- Snowflake: per day, warehouse and tenant, the credits and their cost. A shared warehouse's credits of the
-- day are split between tenants (proportional), queries without a tenant (unattributed) and idle time.
SELECT cost_date, CAST(:snowflake_account AS VARCHAR) AS billing_account_id, warehouse_name, attribution, tenant_id,
       CAST(credits AS DECIMAL(38, 18)) AS credits, CAST(cost_usd AS DECIMAL(38, 18)) AS cost_usd
FROM metering.v_snowflake_credit_daily
WHERE cost_date >= :start_date AND cost_date < :end_date AND cost_usd IS NOT NULL
