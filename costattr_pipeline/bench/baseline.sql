-- The bare DuckDB baseline of `costattr bench`: the main output tables computed straight from the
-- generated files, with no Dagster, no validation, no landing tables and no metadata. Only what the
-- contract's definitions need; the Snowflake split (exact largest remainder) is the project's own SQL,
-- run after this file against views over the Parquet exports.
CREATE SCHEMA IF NOT EXISTS metering;
CREATE SCHEMA IF NOT EXISTS config;

-- Cost Explorer: every group of every fetch file, then per day the latest file's rows only.
CREATE TABLE metering.aws_cost_latest AS
WITH pages AS (
    SELECT filename, GroupDefinitions AS definitions, ResultsByTime AS results
    FROM read_json(:cost_explorer_glob, filename = true, format = 'array', columns = {
        'GroupDefinitions': 'STRUCT("Type" VARCHAR, "Key" VARCHAR)[]',
        'ResultsByTime': 'STRUCT(TimePeriod STRUCT("Start" VARCHAR, "End" VARCHAR), Groups STRUCT(Keys VARCHAR[], Metrics STRUCT(UnblendedCost STRUCT(Amount VARCHAR, Unit VARCHAR)))[], Estimated BOOLEAN)[]'
    }, maximum_object_size = 67108864)
),
periods AS (SELECT filename, definitions, unnest(results) AS period FROM pages),
groups AS (
    SELECT filename, definitions, CAST(period.TimePeriod."Start" AS DATE) AS cost_date, unnest(period.Groups) AS grp
    FROM periods
)
SELECT cost_date,
       NULLIF(substr(grp.Keys[1], length('tenant_id$') + 1), '') AS tenant_id,
       CAST(NULL AS VARCHAR) AS module_id,
       CAST(grp.Metrics.UnblendedCost.Amount AS DECIMAL(38, 12)) AS amount_usd,
       -- what the FOCUS export says of a group: its service, what the fetch grouped by, the fetch file
       grp.Keys[2] AS service,
       definitions[1]."Type" || ':' || definitions[1]."Key" || ',' || definitions[2]."Type" || ':'
           || definitions[2]."Key" AS grouped_by,  -- the generated fetches group by two keys
       parse_filename(filename) AS source_name
FROM groups
WHERE cost_date >= :start_date AND cost_date < :end_date
QUALIFY DENSE_RANK() OVER (PARTITION BY cost_date ORDER BY filename DESC) = 1;

CREATE TABLE metering.unattributed_costs AS
SELECT cost_date,
       SUM(amount_usd) AS total_aws_cost_usd,
       SUM(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END) AS unattributed_cost_usd,
       CAST(CASE WHEN SUM(amount_usd) = 0 THEN 0
                 ELSE SUM(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END) / SUM(amount_usd) END
            AS DECIMAL(18, 12)) AS unattributed_share,
       CAST(:threshold AS DECIMAL(18, 6)) AS threshold_used,
       SUM(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END) > CAST(:threshold AS DECIMAL(18, 6)) * SUM(amount_usd)
           AS exceeds_threshold
FROM metering.aws_cost_latest
GROUP BY cost_date;

-- Databricks: each usage record priced by the list price of its SKU and cloud in force at its start.
CREATE TABLE metering.databricks_priced_usage AS
WITH prices AS (
    SELECT sku_name, cloud, currency_code,
           CAST(price_start_time AS TIMESTAMPTZ) AS price_start,
           CAST(NULLIF(price_end_time, '') AS TIMESTAMPTZ) AS price_end,
           CAST(COALESCE(json_extract_string(pricing, '$.effective_list.default'),
                         json_extract_string(pricing, '$.default')) AS DECIMAL(20, 10)) AS unit_price
    FROM read_csv(:list_prices_file, header = true, all_varchar = true)
)
SELECT u.usage_date,
       json_extract_string(u.custom_tags, '$.data_product_id') AS product_id,
       json_extract_string(u.custom_tags, '$.tenant_id') AS tenant_id,
       u.workspace_id, u.sku_name, u.usage_unit,
       CAST(u.usage_quantity AS DECIMAL(38, 18)) AS usage_quantity,
       p.unit_price,
       CAST(u.usage_quantity * p.unit_price AS DECIMAL(38, 18)) AS cost,
       p.currency_code AS currency,
       -- what the FOCUS export says of a record (the generated list prices are in USD)
       u.account_id, u.record_type, u.record_id,
       CASE WHEN p.currency_code = 'USD' THEN CAST(u.usage_quantity * p.unit_price AS DECIMAL(38, 18)) END AS cost_usd
FROM read_parquet(:databricks_usage_file) AS u
LEFT JOIN prices AS p
  ON p.sku_name = u.sku_name AND p.cloud = u.cloud
 AND CAST(u.usage_start_time AS TIMESTAMPTZ) >= p.price_start
 AND (p.price_end IS NULL OR CAST(u.usage_start_time AS TIMESTAMPTZ) < p.price_end)
WHERE u.usage_date >= :start_date AND u.usage_date < :end_date;

CREATE TABLE metering.external_api_costs AS
SELECT cost_date, tenant_id, module_id, provider, CAST(amount AS DECIMAL(38, 12)) AS amount
FROM read_parquet(:external_api_costs_file)
WHERE cost_date >= :start_date AND cost_date < :end_date;

CREATE TABLE metering.usage_events AS
SELECT DISTINCT ON (event_id) event_id, tenant_id, metric, CAST(quantity AS DECIMAL(38, 12)) AS quantity,
       event_time
FROM read_parquet(:usage_events_file)
WHERE event_time >= :start_date AND event_time < :end_date;

-- The credit price history and the Snowflake views: the project's transformation runs on them next.
CREATE TABLE config.snowflake_credit_price AS
SELECT * FROM (VALUES (CAST(:start_date AS DATE), CAST(NULL AS DATE), CAST(NULL AS VARCHAR), CAST(3.00 AS DECIMAL(18, 6))),
                      (CAST(:start_date AS DATE), CAST(NULL AS DATE), 'WH_001', CAST(2.50 AS DECIMAL(18, 6))))
    AS p(effective_from, effective_to, warehouse_name, price);
CREATE VIEW metering.warehouse_metering_history AS SELECT * FROM read_parquet(:metering_file);
CREATE VIEW metering.query_attribution_history AS SELECT * FROM read_parquet(:queries_file);
CREATE VIEW metering.tag_references AS SELECT * FROM read_parquet(:tags_file);
-- The credit SQL stages its rows (the pipeline then appends the changed days as a version of the
-- append-only table); the baseline computes once and keeps the staged rows as its result.
CREATE TABLE metering.snowflake_credit_daily_staged (
    cost_date DATE, warehouse_name VARCHAR, tenant_id VARCHAR, attribution VARCHAR, credits DECIMAL(38, 12),
    credit_price_usd DECIMAL(18, 6), cost_usd DECIMAL(38, 6)
);
CREATE VIEW metering.snowflake_credit_daily AS SELECT * FROM metering.snowflake_credit_daily_staged;
