-- Registered exports whose landed rows do not match what their files held (at most 20).
WITH registered AS (
    SELECT load_id, MIN(export_name) AS export_name, MIN(row_count) AS row_count,
           MIN(billed_cost) AS billed_cost, MIN(effective_cost) AS effective_cost
    FROM metering.focus_exports
    GROUP BY load_id
),
landed AS (
    SELECT load_id, COUNT(*) AS row_count,
           SUM(CAST(billed_cost AS DECIMAL(38, 18))) AS billed_cost,
           SUM(CAST(effective_cost AS DECIMAL(38, 18))) AS effective_cost
    FROM metering.focus_charges
    GROUP BY load_id
)
SELECT r.export_name, r.load_id, r.row_count AS file_rows, l.row_count AS landed_rows,
       r.billed_cost AS file_billed_cost, l.billed_cost AS landed_billed_cost
FROM registered AS r
LEFT JOIN landed AS l ON l.load_id = r.load_id
WHERE r.row_count > 0
  AND (l.row_count IS NULL OR l.row_count <> r.row_count OR l.billed_cost <> r.billed_cost
       OR l.effective_cost <> r.effective_cost)
ORDER BY r.export_name
LIMIT 20
