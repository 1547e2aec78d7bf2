-- Validated usage rows (the staged relation `staged_usage`) in the landing shape of metering.databricks_usage.
-- An empty record_type is an original record; empty texts become NULL.
-- No ORDER BY: DuckDB keeps the file's order (preserve_insertion_order), and sorting a year of
-- records by source_row before appending them cost 1.3 s of the 4 s landing.
SELECT trim(record_id) AS record_id,
       NULLIF(trim(account_id), '') AS account_id,
       NULLIF(trim(workspace_id), '') AS workspace_id,
       trim(sku_name) AS sku_name,
       NULLIF(upper(trim(cloud)), '') AS cloud,
       usage_start_time,
       usage_end_time,
       usage_date,
       NULLIF(trim(usage_unit), '') AS usage_unit,
       usage_quantity,
       NULLIF(trim(custom_tags), '') AS custom_tags,
       NULLIF(trim(usage_metadata), '') AS usage_metadata,
       COALESCE(NULLIF(upper(trim(record_type)), ''), 'ORIGINAL') AS record_type,
       :source_name AS source_name
FROM staged_usage
