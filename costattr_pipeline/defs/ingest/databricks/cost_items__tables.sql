CREATE SCHEMA IF NOT EXISTS app;

-- The application's cost items; this pipeline owns the rows with
-- (entity_type, cost_center, title) = ('data_product', 'INFRASTRUCTURE', 'Databricks Infra Cost').
CREATE TABLE IF NOT EXISTS app.cost_items (
    entity_type  VARCHAR NOT NULL,
    entity_id    VARCHAR NOT NULL,
    cost_center  VARCHAR NOT NULL,
    title        VARCHAR NOT NULL,
    start_month  DATE NOT NULL,
    end_month    DATE NOT NULL,
    amount_cents BIGINT NOT NULL,
    currency     VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS app.cost_items_staging (
    entity_type  VARCHAR NOT NULL,
    entity_id    VARCHAR NOT NULL,
    cost_center  VARCHAR NOT NULL,
    title        VARCHAR NOT NULL,
    start_month  DATE NOT NULL,
    end_month    DATE NOT NULL,
    amount_cents BIGINT NOT NULL,
    currency     VARCHAR NOT NULL,
    amount       DECIMAL(38, 18) NOT NULL      -- the exact total the cents were rounded from
);
