-- The register of computations of {table} (append-only, spec NFR-024): one row per day a computation
-- changed. A day whose latest computation has no rows (row_count 0) is empty, whatever earlier versions held.
CREATE TABLE IF NOT EXISTS {register} (
    cost_date       DATE NOT NULL,           -- the day whose version this computation is
    computation_id  VARCHAR NOT NULL,        -- the computation (the Dagster run id); its rows in the table carry it
    computed_at     TIMESTAMP NOT NULL,      -- UTC time of the computation: from then on this version is current
    config_hash     VARCHAR NOT NULL,        -- hash of the settings the figures depend on
    source_load_ids VARCHAR NOT NULL,        -- what it read (relations or file)
    row_count       BIGINT NOT NULL          -- rows of the version; 0: the day has no rows from then on
);

-- The published contract (spec ADR-046 §3): {view}, the current version of each day (its latest
-- computation; rows from before versions until their day is computed again). Every reader outside the
-- asset reads the view, never the table.
CREATE OR REPLACE VIEW {view} AS
WITH current_computations AS (
    SELECT cost_date, computation_id
    FROM {register}
    QUALIFY ROW_NUMBER() OVER (PARTITION BY cost_date ORDER BY computed_at DESC, computation_id DESC) = 1
)
SELECT {figures}, computation_id, computed_at
FROM {table} AS c
WHERE EXISTS (SELECT 1 FROM current_computations AS k
              WHERE k.cost_date = c.cost_date AND k.computation_id = c.computation_id)
   OR (c.computation_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM {register} AS k
                       WHERE k.cost_date = c.cost_date));
