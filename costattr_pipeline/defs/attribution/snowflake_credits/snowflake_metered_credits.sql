-- M: the compute credits of each warehouse on each UTC day of START_TIME, for the window's days, with
-- its cloud-services credits (before the daily 10 % adjustment) and its id (tags are matched on it).
-- The attribution and its reconciliation check both read it, as the relation `metered_credits`.
SELECT CAST(start_time AS DATE) AS cost_date,
       warehouse_name,
       MIN(warehouse_id) AS warehouse_id,
       SUM(CAST(credits_used_compute AS DECIMAL(38, 12))) AS metered_credits,
       SUM(CAST(COALESCE(credits_used_cloud_services, 0) AS DECIMAL(38, 12))) AS cloud_services_credits
FROM account_usage.warehouse_metering_history
WHERE start_time >= :start_date AND start_time < :end_date
GROUP BY CAST(start_time AS DATE), warehouse_name
