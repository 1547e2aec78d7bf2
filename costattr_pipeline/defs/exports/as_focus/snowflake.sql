-- Snowflake credits as FOCUS rows. The rows of a shared warehouse's split (proportional, unattributed, idle)
-- carry the allocation columns (FOCUS 1.3's Allocated*, x_ prefixed in 1.2).
SELECT cost_date, 'snowflake' AS resource_type, 'Snowflake' AS provider_name, 'Snowflake' AS publisher_name,
       'Snowflake' AS invoice_issuer_name, billing_account_id,
       CAST(NULL AS VARCHAR) AS billing_account_name, CAST(NULL AS VARCHAR) AS sub_account_id,
       CAST(NULL AS VARCHAR) AS sub_account_name, 'Usage' AS charge_category, CAST(NULL AS VARCHAR) AS charge_class,
       'Warehouse compute credits (' || attribution || ')' AS charge_description, 'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       'Snowflake Warehouses' AS service_name, 'Databases' AS service_category, 'Data Warehouses' AS service_subcategory,
       'snowflake-warehouse-compute' AS sku_id, 'snowflake-warehouse-compute' AS sku_price_id,
       'Standard' AS pricing_category,
       credits AS pricing_quantity, 'Credits' AS pricing_unit,
       credits AS consumed_quantity, 'Credits' AS consumed_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       warehouse_name AS resource_id, warehouse_name AS resource_name, 'Warehouse' AS focus_resource_type,
       CAST(NULL AS VARCHAR) AS region_id, CAST(NULL AS VARCHAR) AS region_name,
       cost_usd AS billed_cost, cost_usd AS effective_cost, cost_usd AS list_cost, cost_usd AS contracted_cost,
       cost_usd AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       tenant_id, CAST(NULL AS VARCHAR) AS module_id, attribution AS attribution_rule,
       CASE WHEN attribution <> 'dedicated' THEN 'snowflake_' || attribution END AS allocated_method_id,
       CASE attribution
            WHEN 'proportional' THEN '{"basis":"CREDITS_ATTRIBUTED_COMPUTE of the tenant''s queries","of":"CREDITS_USED_COMPUTE of the warehouse and day"}'
            WHEN 'unattributed' THEN '{"basis":"CREDITS_ATTRIBUTED_COMPUTE of queries without a tenant","of":"CREDITS_USED_COMPUTE of the warehouse and day"}'
            WHEN 'idle' THEN '{"basis":"credits no query used","of":"CREDITS_USED_COMPUTE of the warehouse and day"}'
       END AS allocated_method_details,
       CASE WHEN attribution <> 'dedicated' THEN warehouse_name END AS allocated_resource_id,
       CASE WHEN attribution <> 'dedicated' THEN warehouse_name END AS allocated_resource_name,
       'snowflake/warehouse_metering_history:' || warehouse_name AS source_record,
       CAST(NULL AS VARCHAR) AS rate_card_version
FROM metering.focus_export_snowflake
