-- Cost Explorer groups as FOCUS rows. Cost Explorer gives no quantity: a row is one day of a service's cost for
-- a tenant (1 Day).
SELECT cost_date, 'aws' AS resource_type, 'AWS' AS provider_name, 'AWS' AS publisher_name,
       'AWS' AS invoice_issuer_name, billing_account_id,
       CAST(NULL AS VARCHAR) AS billing_account_name, CAST(NULL AS VARCHAR) AS sub_account_id,
       CAST(NULL AS VARCHAR) AS sub_account_name, 'Usage' AS charge_category, CAST(NULL AS VARCHAR) AS charge_class,
       service || ' (Cost Explorer ' || grouped_by || ')' AS charge_description, 'Usage-Based' AS charge_frequency,
       CAST(NULL AS TIMESTAMP) AS charge_period_start, CAST(NULL AS TIMESTAMP) AS charge_period_end,
       CAST(NULL AS TIMESTAMP) AS billing_period_start, CAST(NULL AS TIMESTAMP) AS billing_period_end,
       COALESCE(service, 'Unknown') AS service_name,
       CASE WHEN service ILIKE '%Elastic Compute Cloud%' OR service ILIKE '%EC2%' THEN 'Compute'
            WHEN service ILIKE '%Lambda%' THEN 'Compute'
            WHEN service ILIKE '%Simple Storage Service%' OR service ILIKE '%S3%' THEN 'Storage'
            WHEN service ILIKE '%Relational Database%' THEN 'Databases'
            WHEN service ILIKE '%DynamoDB%' THEN 'Databases'
            WHEN service ILIKE '%CloudWatch%' THEN 'Management and Governance'
            WHEN service ILIKE '%Virtual Private Cloud%' OR service ILIKE '%VPC%' THEN 'Networking'
            WHEN service ILIKE '%CloudFront%' THEN 'Networking'
            ELSE 'Other' END AS service_category,
       CASE WHEN service ILIKE '%Elastic Compute Cloud%' OR service ILIKE '%EC2%' THEN 'Virtual Machines'
            WHEN service ILIKE '%Lambda%' THEN 'Serverless Compute'
            WHEN service ILIKE '%Simple Storage Service%' OR service ILIKE '%S3%' THEN 'Object Storage'
            WHEN service ILIKE '%Relational Database%' THEN 'Relational Databases'
            WHEN service ILIKE '%DynamoDB%' THEN 'NoSQL Databases'
            WHEN service ILIKE '%CloudWatch%' THEN 'Observability'
            WHEN service ILIKE '%Virtual Private Cloud%' OR service ILIKE '%VPC%' THEN 'Network Infrastructure'
            WHEN service ILIKE '%CloudFront%' THEN 'Content Delivery'
            ELSE 'Other (Other)' END AS service_subcategory,
       COALESCE(service, 'Unknown') AS sku_id, COALESCE(service, 'Unknown') AS sku_price_id,
       'Standard' AS pricing_category,
       CAST(1 AS DECIMAL(38, 18)) AS pricing_quantity, 'Day' AS pricing_unit,
       CAST(1 AS DECIMAL(38, 18)) AS consumed_quantity, 'Day' AS consumed_unit,
       CAST(NULL AS DECIMAL(38, 18)) AS list_unit_price, CAST(NULL AS DECIMAL(38, 18)) AS contracted_unit_price,
       CAST(NULL AS VARCHAR) AS resource_id, CAST(NULL AS VARCHAR) AS resource_name,
       CAST(NULL AS VARCHAR) AS focus_resource_type, CAST(NULL AS VARCHAR) AS region_id,
       CAST(NULL AS VARCHAR) AS region_name,
       amount_usd AS billed_cost, amount_usd AS effective_cost, amount_usd AS list_cost, amount_usd AS contracted_cost,
       amount_usd AS counted_cost, CAST(NULL AS VARCHAR) AS tags,
       tenant_id, module_id, CASE WHEN tenant_id IS NULL THEN 'unattributed' ELSE 'tag' END AS attribution_rule,
       CAST(NULL AS VARCHAR) AS allocated_method_id, CAST(NULL AS VARCHAR) AS allocated_method_details,
       CAST(NULL AS VARCHAR) AS allocated_resource_id, CAST(NULL AS VARCHAR) AS allocated_resource_name,
       'aws_cost_explorer/' || source_name AS source_record, CAST(NULL AS VARCHAR) AS rate_card_version
FROM metering.focus_export_aws
