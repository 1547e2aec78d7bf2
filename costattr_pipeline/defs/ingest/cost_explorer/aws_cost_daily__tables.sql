CREATE SCHEMA IF NOT EXISTS metering;

-- Append-only landing: every row ever loaded, with the identity of its load.
CREATE TABLE IF NOT EXISTS metering.aws_cost_daily (
    cost_date   DATE NOT NULL,
    grouped_by  VARCHAR NOT NULL,        -- GroupDefinitions of the fetch, e.g. TAG:tenant_id,DIMENSION:SERVICE
    tenant_id   VARCHAR,                 -- NULL: the resource has no tenant tag (tenant_id$)
    module_id   VARCHAR,
    service     VARCHAR,
    amount_usd  DECIMAL(38, 12) NOT NULL,
    currency    VARCHAR,
    estimated   BOOLEAN NOT NULL,
    load_id     VARCHAR NOT NULL,        -- content hash of the fetch file
    source_name VARCHAR NOT NULL,        -- orders restatements: the greatest name wins per day
    loaded_at   TIMESTAMP NOT NULL       -- the delivery: when this file, as it stands, was first found
);

-- Fetches are appended straight from the parsed file; the staging table of earlier versions is gone.
DROP TABLE IF EXISTS metering.aws_cost_staging;

-- The restatement rule decides between whole loads, never between rows: every row of one
-- (cost_date, grouping, load) shares its fate. So the views rank the few distinct loads of each day
-- (a handful of rows per day) and keep the rows of the winners, instead of ranking every landed row
-- (a window over the whole append-only history took 14 s a year at the benchmark's scale; this, 0.4 s).
CREATE OR REPLACE VIEW metering.aws_cost_loads AS
SELECT DISTINCT cost_date, grouped_by, source_name, loaded_at, load_id
FROM metering.aws_cost_daily;

-- For each cost_date and grouping, the latest fetch.
CREATE OR REPLACE VIEW metering.aws_cost_latest_loads AS
SELECT *
FROM metering.aws_cost_loads
QUALIFY DENSE_RANK() OVER (PARTITION BY cost_date, grouped_by
                           ORDER BY source_name DESC, loaded_at DESC, load_id DESC) = 1;

-- The rows that count: for each cost_date and grouping, only the latest fetch's rows.
CREATE OR REPLACE VIEW metering.aws_cost_latest AS
SELECT *
FROM metering.aws_cost_daily AS landed
WHERE EXISTS (
    SELECT 1 FROM metering.aws_cost_latest_loads AS latest
    WHERE latest.cost_date = landed.cost_date AND latest.grouped_by = landed.grouped_by
      AND latest.source_name = landed.source_name AND latest.loaded_at = landed.loaded_at
      AND latest.load_id = landed.load_id
);

-- The rows a day's figures are built from (every AWS figure reads this view): the latest rows of
-- ONE grouping per day, tenant x service when the day has it, else tenant x module. Rows of
-- different groupings are never added together.
CREATE OR REPLACE VIEW metering.aws_cost_day_rows AS
WITH counted AS (
    SELECT *
    FROM metering.aws_cost_latest_loads
    QUALIFY DENSE_RANK() OVER (
        PARTITION BY cost_date
        ORDER BY CASE WHEN grouped_by LIKE '%DIMENSION:SERVICE%' THEN 0 ELSE 1 END, grouped_by
    ) = 1
)
-- Joined to the landed rows directly (not through aws_cost_latest): one semi-join per read, not two.
SELECT *
FROM metering.aws_cost_daily AS landed
WHERE EXISTS (
    SELECT 1 FROM counted
    WHERE counted.cost_date = landed.cost_date AND counted.grouped_by = landed.grouped_by
      AND counted.source_name = landed.source_name AND counted.loaded_at = landed.loaded_at
      AND counted.load_id = landed.load_id
);

-- The fetch register: each delivery of a fetch file and the states (size, modification time) it was
-- seen in, so an unchanged file whose days are landed is neither hashed nor parsed again (a daily
-- run does not re-read a year of JSON). A file whose state is not one of its latest delivery's is
-- hashed: other bytes are a new delivery (loaded_at: when it was found), the same bytes a new state
-- of the same delivery (a copied folder is not landed again).
CREATE TABLE IF NOT EXISTS metering.aws_cost_fetches (
    source_name   VARCHAR NOT NULL,
    file_size     BIGINT NOT NULL,
    file_mtime_ns BIGINT NOT NULL,
    load_id       VARCHAR NOT NULL,      -- content hash
    loaded_at     TIMESTAMP              -- the delivery, as on the rows it lands (set on every row)
);
-- Registers of earlier versions had one load per content: each state becomes a delivery dated by the
-- first landing of its bytes under its name; a state never landed under its name is forgotten (found
-- again, it is a new delivery).
ALTER TABLE metering.aws_cost_fetches ADD COLUMN IF NOT EXISTS loaded_at TIMESTAMP;
UPDATE metering.aws_cost_fetches
SET loaded_at = (SELECT MIN(landed.loaded_at) FROM metering.aws_cost_daily AS landed
                 WHERE landed.load_id = aws_cost_fetches.load_id
                   AND landed.source_name = aws_cost_fetches.source_name)
WHERE loaded_at IS NULL;
DELETE FROM metering.aws_cost_fetches WHERE loaded_at IS NULL;

-- Each fetch file's latest delivery, with every state it was seen in: a file in one of these states
-- is unchanged.
CREATE OR REPLACE VIEW metering.aws_cost_current_deliveries AS
SELECT source_name, file_size, file_mtime_ns, load_id, loaded_at
FROM metering.aws_cost_fetches
QUALIFY loaded_at = MAX(loaded_at) OVER (PARTITION BY source_name);

CREATE TABLE IF NOT EXISTS metering.aws_cost_fetch_days (
    load_id   VARCHAR NOT NULL,
    cost_date DATE NOT NULL,
    row_count BIGINT NOT NULL
);

-- Versions before the load-level views kept metering.aws_cost_day_rows as a table.
DROP TABLE IF EXISTS metering.aws_cost_current;
