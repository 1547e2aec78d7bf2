-- Upsert the staged list prices by key (the usage window is replaced by the asset itself).
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

DELETE FROM metering.databricks_list_prices_staging;
