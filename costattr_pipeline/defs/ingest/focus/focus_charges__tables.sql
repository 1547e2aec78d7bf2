CREATE SCHEMA IF NOT EXISTS metering;

-- Append-only landing: every FOCUS row ever loaded, with the identity of the export it came in.
-- The FOCUS columns costattr reads, under snake_case names; money in 18 decimals.
CREATE TABLE IF NOT EXISTS metering.focus_charges (
    cost_date               DATE NOT NULL,          -- UTC day of ChargePeriodStart
    provider                VARCHAR NOT NULL,       -- ServiceProviderName (1.3), else ProviderName
    resource_type           VARCHAR NOT NULL,       -- the summary's resource type: focus_<provider>
    focus_version           VARCHAR NOT NULL,
    charge_period_start     TIMESTAMP NOT NULL,
    charge_period_end       TIMESTAMP NOT NULL,
    billing_period_start    TIMESTAMP NOT NULL,
    billing_period_end      TIMESTAMP NOT NULL,
    billing_account_id      VARCHAR NOT NULL,
    billing_account_name    VARCHAR,
    sub_account_id          VARCHAR,
    sub_account_name        VARCHAR,
    publisher_name          VARCHAR,
    invoice_issuer_name     VARCHAR,
    invoice_id              VARCHAR,
    charge_category         VARCHAR NOT NULL,
    charge_class            VARCHAR,
    charge_description      VARCHAR,
    charge_frequency        VARCHAR,
    service_name            VARCHAR,
    service_category        VARCHAR,
    service_subcategory     VARCHAR,
    sku_id                  VARCHAR,
    sku_price_id            VARCHAR,
    sku_meter               VARCHAR,
    pricing_category        VARCHAR,
    pricing_quantity        DECIMAL(38, 18),
    pricing_unit            VARCHAR,
    consumed_quantity       DECIMAL(38, 18),
    consumed_unit           VARCHAR,
    list_unit_price         DECIMAL(38, 18),
    contracted_unit_price   DECIMAL(38, 18),
    resource_id             VARCHAR,
    resource_name           VARCHAR,
    focus_resource_type     VARCHAR,                -- FOCUS ResourceType (e.g. Virtual Machine)
    region_id               VARCHAR,
    region_name             VARCHAR,
    availability_zone       VARCHAR,
    commitment_discount_id  VARCHAR,
    billed_cost             DECIMAL(38, 18) NOT NULL,
    effective_cost          DECIMAL(38, 18) NOT NULL,
    list_cost               DECIMAL(38, 18),
    contracted_cost         DECIMAL(38, 18),
    billing_currency        VARCHAR NOT NULL,
    tags                    VARCHAR,                -- JSON object, as the provider wrote it
    custom_columns          VARCHAR,                -- JSON object of the file's own columns (x_...)
    source_file             VARCHAR NOT NULL,       -- focus/<path> of the file
    source_row              BIGINT NOT NULL,        -- its CSV line or Parquet row
    export_name             VARCHAR NOT NULL,       -- the file, or the folder of part files
    exported_at             TIMESTAMP NOT NULL,     -- the export's latest file modification time
    load_id                 VARCHAR NOT NULL,       -- hash of the export's names and bytes
    loaded_at               TIMESTAMP NOT NULL
);

-- The export register: each export seen (by names, sizes and modification times), its identity and
-- what it held, so an unchanged export is neither hashed nor read again.
CREATE TABLE IF NOT EXISTS metering.focus_exports (
    export_name   VARCHAR NOT NULL,
    fingerprint   VARCHAR NOT NULL,
    load_id       VARCHAR NOT NULL,
    row_count     BIGINT NOT NULL,
    billed_cost   DECIMAL(38, 18) NOT NULL,
    effective_cost DECIMAL(38, 18) NOT NULL
);

-- The replacement rule decides between whole exports: for each provider, billing account and billing
-- period, the rows of the latest export that holds it count (latest delivery, then latest load).
CREATE OR REPLACE VIEW metering.focus_export_periods AS
SELECT DISTINCT provider, billing_account_id, billing_period_start, export_name, exported_at, loaded_at, load_id
FROM metering.focus_charges;

CREATE OR REPLACE VIEW metering.focus_latest_export_periods AS
SELECT *
FROM metering.focus_export_periods
QUALIFY DENSE_RANK() OVER (PARTITION BY provider, billing_account_id, billing_period_start
                           ORDER BY exported_at DESC, loaded_at DESC, export_name DESC, load_id DESC) = 1;

-- The rows that count.
CREATE OR REPLACE VIEW metering.focus_charges_latest AS
SELECT *
FROM metering.focus_charges AS landed
WHERE EXISTS (
    SELECT 1 FROM metering.focus_latest_export_periods AS latest
    WHERE latest.provider = landed.provider AND latest.billing_account_id = landed.billing_account_id
      AND latest.billing_period_start = landed.billing_period_start AND latest.load_id = landed.load_id
      AND latest.exported_at = landed.exported_at AND latest.loaded_at = landed.loaded_at
      AND latest.export_name = landed.export_name
);
