-- Monthly Databricks cost per data product into app.cost_items (contract section 4), as an
-- upsert keyed on (entity_type, entity_id, cost_center, title, start_month, currency):
-- re-runs update in place and never duplicate. Items of the window's months that no longer
-- have cost (the product's tag was removed, or its cost was retracted) are deleted.
-- amount_cents = the exact monthly total x 100, rounded half away from zero (written out,
-- so it does not depend on an engine's ROUND).
DELETE FROM app.cost_items_staging;

INSERT INTO app.cost_items_staging
WITH month_totals AS (
    SELECT product_id,
           CAST(DATE_TRUNC('month', usage_date) AS DATE) AS start_month,
           currency,
           SUM(CAST(cost AS DECIMAL(38, 18))) AS amount
    FROM metering.databricks_priced_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date
      AND product_id IS NOT NULL
      AND cost IS NOT NULL
    GROUP BY product_id, CAST(DATE_TRUNC('month', usage_date) AS DATE), currency
)
SELECT CAST(:entity_type AS VARCHAR), product_id, :cost_center, :title, start_month, start_month,
       CAST(SIGN(amount) * FLOOR(ABS(amount) * 100 + 0.5) AS BIGINT),
       currency, amount
FROM month_totals
WHERE amount <> 0;

-- The upsert, as UPDATE then INSERT: an item of a key already present is updated in place, a new key
-- is inserted. (Not one MERGE: the same statements then run on DuckDB, Snowflake and fakesnow, which
-- cannot MERGE inside a transaction.)
UPDATE app.cost_items
SET end_month = staged.end_month, amount_cents = staged.amount_cents
FROM app.cost_items_staging AS staged
WHERE cost_items.entity_type = staged.entity_type
  AND cost_items.entity_id = staged.entity_id
  AND cost_items.cost_center = staged.cost_center
  AND cost_items.title = staged.title
  AND cost_items.start_month = staged.start_month
  AND cost_items.currency = staged.currency;

INSERT INTO app.cost_items (entity_type, entity_id, cost_center, title, start_month, end_month, amount_cents, currency)
SELECT staged.entity_type, staged.entity_id, staged.cost_center, staged.title, staged.start_month,
       staged.end_month, staged.amount_cents, staged.currency
FROM app.cost_items_staging AS staged
WHERE NOT EXISTS (
    SELECT 1
    FROM app.cost_items AS item
    WHERE item.entity_type = staged.entity_type
      AND item.entity_id = staged.entity_id
      AND item.cost_center = staged.cost_center
      AND item.title = staged.title
      AND item.start_month = staged.start_month
      AND item.currency = staged.currency
);

DELETE FROM app.cost_items
WHERE entity_type = :entity_type
  AND cost_center = :cost_center
  AND title = :title
  AND start_month >= :start_date AND start_month < :end_date
  AND NOT EXISTS (
      SELECT 1
      FROM app.cost_items_staging AS staged
      WHERE staged.entity_type = cost_items.entity_type
        AND staged.entity_id = cost_items.entity_id
        AND staged.cost_center = cost_items.cost_center
        AND staged.title = cost_items.title
        AND staged.start_month = cost_items.start_month
        AND staged.currency = cost_items.currency
  );
