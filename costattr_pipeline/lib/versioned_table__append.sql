-- Append the window's staged days that differ from their current version as a new version of {table}
-- (spec NFR-024: the table is never updated or deleted). Rows are compared as multisets (two equal rows are
-- two rows); a day whose staged rows equal its current rows is not appended again, so re-running with the
-- same input leaves the tables as they were; a day that had rows and now has none is registered with
-- row_count 0. Runs inside the window's transaction, once the run's rows are staged.
INSERT INTO {register}
    (cost_date, computation_id, computed_at, config_hash, source_load_ids, row_count)
WITH staged AS (
    SELECT {figures} FROM {staged_rows} AS s
    WHERE cost_date >= :start_date AND cost_date < :end_date
),
staged_counts AS (
    SELECT {figures}, COUNT(*) AS copies FROM staged GROUP BY {figures}
),
current_counts AS (
    SELECT {figures}, COUNT(*) AS copies
    FROM {view}
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY {figures}
),
changed_days AS (
    SELECT cost_date FROM (SELECT * FROM staged_counts EXCEPT SELECT * FROM current_counts) AS added
    UNION
    SELECT cost_date FROM (SELECT * FROM current_counts EXCEPT SELECT * FROM staged_counts) AS removed
)
SELECT d.cost_date, :computation_id, :computed_at, :config_hash, :source_load_ids,
       (SELECT COUNT(*) FROM staged AS s WHERE s.cost_date = d.cost_date)
FROM changed_days AS d;

INSERT INTO {table}
    ({figures}, computation_id, computed_at, config_hash, source_load_ids)
SELECT {figures}, :computation_id, :computed_at, :config_hash, :source_load_ids
FROM {staged_rows} AS s
WHERE cost_date >= :start_date AND cost_date < :end_date
  AND cost_date IN (SELECT cost_date FROM {register} WHERE computation_id = :computation_id);

DELETE FROM {staging};
