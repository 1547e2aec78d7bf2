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
current_rows AS (
    SELECT {figures} FROM {view}
    WHERE cost_date >= :start_date AND cost_date < :end_date
),
day_sizes AS (
    -- Rows per day on each side. A day whose sizes differ has changed: its rows need no comparison (every
    -- day of a first computation, which grouping 8.8 M staged rows by every figure made cost 10 s a year).
    SELECT COALESCE(s.cost_date, c.cost_date) AS cost_date, COALESCE(s.row_count, 0) AS staged_count,
           COALESCE(c.row_count, 0) AS current_count
    FROM (SELECT cost_date, COUNT(*) AS row_count FROM staged GROUP BY cost_date) AS s
    FULL JOIN (SELECT cost_date, COUNT(*) AS row_count FROM current_rows GROUP BY cost_date) AS c
      ON c.cost_date = s.cost_date
),
same_size_days AS (
    SELECT cost_date FROM day_sizes WHERE staged_count = current_count
),
signed_rows AS (
    -- Days of the same size: every row counted +1 staged and -1 current. The day is unchanged when the
    -- copies of each distinct row cancel out: multiset equality in one grouping (NULLs group together).
    SELECT {figures}, 1 AS side FROM staged
    WHERE cost_date IN (SELECT cost_date FROM same_size_days)
    UNION ALL
    SELECT {figures}, -1 AS side FROM current_rows
    WHERE cost_date IN (SELECT cost_date FROM same_size_days)
),
changed_days AS (
    SELECT cost_date FROM day_sizes WHERE staged_count <> current_count
    UNION
    SELECT cost_date FROM signed_rows GROUP BY {figures} HAVING SUM(side) <> 0
)
SELECT d.cost_date, :computation_id, :computed_at, :config_hash, :source_load_ids, n.staged_count
FROM changed_days AS d
JOIN day_sizes AS n ON n.cost_date = d.cost_date;

INSERT INTO {table}
    ({figures}, computation_id, computed_at, config_hash, source_load_ids)
SELECT {figures}, :computation_id, :computed_at, :config_hash, :source_load_ids
FROM {staged_rows} AS s
WHERE cost_date >= :start_date AND cost_date < :end_date
  AND cost_date IN (SELECT cost_date FROM {register} WHERE computation_id = :computation_id);

DELETE FROM {staging};
