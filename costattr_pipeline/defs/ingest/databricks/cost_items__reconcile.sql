-- Currencies of the window's months where the synced cost items do not carry the tagged priced
-- cost exactly: the exact totals differ, an amount_cents is more than half a cent from its exact
-- total, or an item in app.cost_items differs from (or is missing in) the staged sync.
WITH source AS (
    SELECT currency, SUM(CAST(cost AS DECIMAL(38, 18))) AS amount
    FROM metering.databricks_priced_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date AND product_id IS NOT NULL
    GROUP BY currency
),
synced AS (
    SELECT currency,
           SUM(CAST(amount AS DECIMAL(38, 18))) AS amount,
           SUM(CASE WHEN ABS(amount * 100 - amount_cents) > 0.5 THEN 1 ELSE 0 END) AS misrounded
    FROM app.cost_items_staging
    GROUP BY currency
),
items AS (
    SELECT item.currency,
           SUM(CASE WHEN staged.amount_cents IS NULL OR staged.amount_cents <> item.amount_cents
                    THEN 1 ELSE 0 END) AS not_as_staged
    FROM app.cost_items AS item
    LEFT JOIN app.cost_items_staging AS staged
      ON staged.entity_id = item.entity_id
     AND staged.start_month = item.start_month
     AND staged.currency = item.currency
    WHERE item.entity_type = :entity_type
      AND item.cost_center = :cost_center
      AND item.title = :title
      AND item.start_month >= :start_date AND item.start_month < :end_date
    GROUP BY item.currency
)
SELECT COALESCE(source.currency, synced.currency, items.currency) AS currency,
       source.amount AS priced_cost,
       synced.amount AS synced_cost,
       synced.misrounded,
       items.not_as_staged
FROM source
FULL OUTER JOIN synced ON synced.currency = source.currency
FULL OUTER JOIN items ON items.currency = COALESCE(source.currency, synced.currency)
WHERE COALESCE(source.amount, 0) <> COALESCE(synced.amount, 0)
   OR COALESCE(synced.misrounded, 0) > 0
   OR COALESCE(items.not_as_staged, 0) > 0
ORDER BY 1
