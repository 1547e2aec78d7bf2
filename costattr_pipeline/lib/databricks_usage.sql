-- Live reader, Databricks SQL: one window of system.billing.usage, read incrementally by usage_date.
-- :start_date / :end_date are bound by costattr (lib/sql.py) as typed literals before the statement is sent.
-- Maps and structs are returned as JSON text, the shape of the exports (contract 2.3).
SELECT record_id,
       account_id,
       workspace_id,
       sku_name,
       cloud,
       usage_start_time,
       usage_end_time,
       usage_date,
       usage_unit,
       usage_quantity,
       to_json(custom_tags) AS custom_tags,
       to_json(usage_metadata) AS usage_metadata,
       record_type
FROM system.billing.usage
WHERE usage_date >= :start_date
  AND usage_date < :end_date
ORDER BY usage_date, record_id
