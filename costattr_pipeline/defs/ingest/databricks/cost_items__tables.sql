CREATE SCHEMA IF NOT EXISTS app;

-- The application's cost items; this pipeline owns the rows with
-- (entity_type, cost_center, title) = ('data_product', 'INFRASTRUCTURE', 'Databricks Infra Cost').
CREATE TABLE IF NOT EXISTS app.cost_items (
    entity_type  VARCHAR NOT NULL, -- the application's entity kind: data_product
    entity_id    VARCHAR NOT NULL, -- the data product (the Databricks product tag's value)
    cost_center  VARCHAR NOT NULL, -- INFRASTRUCTURE for the rows this pipeline owns
    title        VARCHAR NOT NULL, -- Databricks Infra Cost for the rows this pipeline owns
    start_month  DATE NOT NULL,    -- first day of the calendar month the cost is for
    end_month    DATE NOT NULL,    -- the same first day of the month (one-month item)
    amount_cents BIGINT NOT NULL,  -- cents of currency: the month's exact cost x 100, rounded half away from zero
    currency     VARCHAR NOT NULL  -- ISO 4217 currency of the Databricks list prices
);
CREATE TABLE IF NOT EXISTS app.cost_items_staging (
    entity_type  VARCHAR NOT NULL,             -- as app.cost_items
    entity_id    VARCHAR NOT NULL,             -- as app.cost_items
    cost_center  VARCHAR NOT NULL,             -- as app.cost_items
    title        VARCHAR NOT NULL,             -- as app.cost_items
    start_month  DATE NOT NULL,                -- as app.cost_items
    end_month    DATE NOT NULL,                -- as app.cost_items
    amount_cents BIGINT NOT NULL,              -- as app.cost_items: cents, half away from zero
    currency     VARCHAR NOT NULL,             -- as app.cost_items
    amount       DECIMAL(38, 18) NOT NULL      -- currency units, exact: the total the cents were rounded from
);
