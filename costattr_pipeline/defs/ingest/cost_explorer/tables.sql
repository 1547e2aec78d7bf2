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
    load_id     VARCHAR NOT NULL,        -- content hash of the fetch: the same bytes load once
    source_name VARCHAR NOT NULL,        -- orders restatements: the greatest name wins per day
    loaded_at   TIMESTAMP NOT NULL
);

-- Fetches are appended straight from the parsed file; the staging table of earlier versions is gone.
DROP TABLE IF EXISTS metering.aws_cost_staging;

-- The rows that count: for each cost_date and grouping, only the latest fetch's rows.
CREATE OR REPLACE VIEW metering.aws_cost_latest AS
SELECT *
FROM metering.aws_cost_daily
QUALIFY DENSE_RANK() OVER (PARTITION BY cost_date, grouped_by ORDER BY source_name DESC, loaded_at DESC, load_id DESC) = 1;

-- The rows a day's figures are built from: the latest rows of ONE grouping per day, tenant x service
-- when the day has it, else tenant x module. Rows of different groupings are never added together.
CREATE OR REPLACE VIEW metering.aws_cost_day_rows AS
SELECT *
FROM metering.aws_cost_latest
QUALIFY DENSE_RANK() OVER (
    PARTITION BY cost_date
    ORDER BY CASE WHEN grouped_by LIKE '%DIMENSION:SERVICE%' THEN 0 ELSE 1 END, grouped_by
) = 1;

-- The fetch register: what each fetch file holds, so an unchanged file whose days are
-- landed is neither hashed nor parsed again (a daily run does not re-read a year of JSON).
CREATE TABLE IF NOT EXISTS metering.aws_cost_fetches (
    source_name   VARCHAR NOT NULL,
    file_size     BIGINT NOT NULL,
    file_mtime_ns BIGINT NOT NULL,
    load_id       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS metering.aws_cost_fetch_days (
    load_id   VARCHAR NOT NULL,
    cost_date DATE NOT NULL,
    row_count BIGINT NOT NULL
);

-- metering.aws_cost_day_rows, kept as a table per day by the landing asset (its run's days are
-- replaced): every downstream asset reads a plain table instead of two window functions over the
-- whole append-only history.
CREATE TABLE IF NOT EXISTS metering.aws_cost_current AS SELECT * FROM metering.aws_cost_daily WHERE 1 = 0;
