-- Replace the run's usage window with the staged rows, and upsert the staged list prices by key.
DELETE FROM metering.databricks_usage
WHERE usage_date >= :start_date AND usage_date < :end_date;

INSERT INTO metering.databricks_usage
SELECT *
FROM metering.databricks_usage_staging
WHERE usage_date >= :start_date AND usage_date < :end_date;

DELETE FROM metering.databricks_list_prices
WHERE EXISTS (
    SELECT 1
    FROM metering.databricks_list_prices_staging AS staged
    WHERE staged.sku_name = databricks_list_prices.sku_name
      AND staged.currency_code = databricks_list_prices.currency_code
      AND staged.price_start_time = databricks_list_prices.price_start_time
      AND COALESCE(staged.cloud, '') = COALESCE(databricks_list_prices.cloud, '')
      AND COALESCE(staged.account_id, '') = COALESCE(databricks_list_prices.account_id, '')
);

INSERT INTO metering.databricks_list_prices
SELECT * FROM metering.databricks_list_prices_staging;

DELETE FROM metering.databricks_usage_staging;
DELETE FROM metering.databricks_list_prices_staging;
