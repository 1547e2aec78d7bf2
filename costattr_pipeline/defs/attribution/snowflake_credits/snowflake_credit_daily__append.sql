-- Append the staged days that differ from the current version as a new version (spec NFR-024: the table
-- is never updated or deleted). A day whose staged rows equal its current rows is not appended again, so
-- re-running with the same input leaves the tables as they were; a day that had rows and now has none is
-- registered with row_count 0. Runs inside the window's transaction, after snowflake_credit_daily.sql.
INSERT INTO metering.snowflake_credit_daily_computations
    (cost_date, computation_id, computed_at, config_hash, source_load_ids, row_count)
WITH staged AS (
    SELECT cost_date, warehouse_name, tenant_id, attribution, credits, credit_price_usd, cost_usd
    FROM metering.snowflake_credit_daily_staged
    WHERE cost_date >= :start_date AND cost_date < :end_date
),
current_rows AS (
    SELECT cost_date, warehouse_name, tenant_id, attribution, credits, credit_price_usd, cost_usd
    FROM metering.v_snowflake_credit_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date
),
changed_days AS (
    SELECT cost_date FROM (SELECT * FROM staged EXCEPT SELECT * FROM current_rows) AS added
    UNION
    SELECT cost_date FROM (SELECT * FROM current_rows EXCEPT SELECT * FROM staged) AS removed
)
SELECT d.cost_date, :computation_id, :computed_at, :config_hash, :source_load_ids,
       (SELECT COUNT(*) FROM staged AS s WHERE s.cost_date = d.cost_date)
FROM changed_days AS d;

INSERT INTO metering.snowflake_credit_daily
    (cost_date, warehouse_name, tenant_id, attribution, credits, credit_price_usd, cost_usd,
     computation_id, computed_at, config_hash, source_load_ids)
SELECT s.cost_date, s.warehouse_name, s.tenant_id, s.attribution, s.credits, s.credit_price_usd, s.cost_usd,
       :computation_id, :computed_at, :config_hash, :source_load_ids
FROM metering.snowflake_credit_daily_staged AS s
WHERE s.cost_date IN (SELECT cost_date FROM metering.snowflake_credit_daily_computations
                      WHERE computation_id = :computation_id);

DELETE FROM metering.snowflake_credit_daily_staged;
