CREATE SCHEMA IF NOT EXISTS metering;

-- Append-only landing: every FOCUS row ever loaded, with the identity of the export it came in.
-- The FOCUS columns costattr reads, under snake_case names; money in 18 decimals.
CREATE TABLE IF NOT EXISTS metering.focus_charges (
    cost_date               DATE NOT NULL,          -- UTC day of ChargePeriodStart
    provider                VARCHAR NOT NULL,       -- ServiceProviderName (1.3), else ProviderName
    resource_type           VARCHAR NOT NULL,       -- the summary's resource type: focus_<provider>
    focus_version           VARCHAR NOT NULL,       -- the FOCUS version the file's columns say (e.g. 1.2)
    charge_period_start     TIMESTAMP NOT NULL,     -- FOCUS ChargePeriodStart (UTC)
    charge_period_end       TIMESTAMP NOT NULL,     -- FOCUS ChargePeriodEnd (UTC, exclusive)
    billing_period_start    TIMESTAMP NOT NULL,     -- FOCUS BillingPeriodStart (UTC)
    billing_period_end      TIMESTAMP NOT NULL,     -- FOCUS BillingPeriodEnd (UTC, exclusive)
    billing_account_id      VARCHAR NOT NULL,       -- FOCUS BillingAccountId
    billing_account_name    VARCHAR,                -- FOCUS BillingAccountName
    sub_account_id          VARCHAR,                -- FOCUS SubAccountId
    sub_account_name        VARCHAR,                -- FOCUS SubAccountName
    publisher_name          VARCHAR,                -- FOCUS PublisherName
    invoice_issuer_name     VARCHAR,                -- FOCUS InvoiceIssuerName
    invoice_id              VARCHAR,                -- FOCUS InvoiceId
    charge_category         VARCHAR NOT NULL,       -- FOCUS ChargeCategory: Usage, Purchase, Tax, Credit, Adjustment
    charge_class            VARCHAR,                -- FOCUS ChargeClass: Correction or NULL
    charge_description      VARCHAR,                -- FOCUS ChargeDescription
    charge_frequency        VARCHAR,                -- FOCUS ChargeFrequency: One-Time, Recurring, Usage-Based
    service_name            VARCHAR,                -- FOCUS ServiceName
    service_category        VARCHAR,                -- FOCUS ServiceCategory
    service_subcategory     VARCHAR,                -- FOCUS ServiceSubcategory (1.1+)
    sku_id                  VARCHAR,                -- FOCUS SkuId
    sku_price_id            VARCHAR,                -- FOCUS SkuPriceId
    sku_meter               VARCHAR,                -- FOCUS SkuMeter (1.1+)
    pricing_category        VARCHAR,                -- FOCUS PricingCategory
    pricing_quantity        DECIMAL(38, 18),        -- FOCUS PricingQuantity, in pricing_unit, exact
    pricing_unit            VARCHAR,                -- FOCUS PricingUnit
    consumed_quantity       DECIMAL(38, 18),        -- FOCUS ConsumedQuantity, in consumed_unit, exact
    consumed_unit           VARCHAR,                -- FOCUS ConsumedUnit
    list_unit_price         DECIMAL(38, 18),        -- FOCUS ListUnitPrice: billing_currency per pricing_unit, exact
    contracted_unit_price   DECIMAL(38, 18),        -- FOCUS ContractedUnitPrice: billing_currency per pricing_unit, exact
    resource_id             VARCHAR,                -- FOCUS ResourceId
    resource_name           VARCHAR,                -- FOCUS ResourceName
    focus_resource_type     VARCHAR,                -- FOCUS ResourceType (e.g. Virtual Machine)
    region_id               VARCHAR,                -- FOCUS RegionId
    region_name             VARCHAR,                -- FOCUS RegionName
    availability_zone       VARCHAR,                -- FOCUS AvailabilityZone
    commitment_discount_id  VARCHAR,                -- FOCUS CommitmentDiscountId
    billed_cost             DECIMAL(38, 18) NOT NULL, -- FOCUS BilledCost: billing_currency, exact to 18 decimals
    effective_cost          DECIMAL(38, 18) NOT NULL, -- FOCUS EffectiveCost: billing_currency, exact to 18 decimals
    list_cost               DECIMAL(38, 18),        -- FOCUS ListCost: billing_currency, exact
    contracted_cost         DECIMAL(38, 18),        -- FOCUS ContractedCost: billing_currency, exact
    billing_currency        VARCHAR NOT NULL,       -- FOCUS BillingCurrency: ISO 4217 code of every amount of the row
    tags                    VARCHAR,                -- JSON object, as the provider wrote it
    custom_columns          VARCHAR,                -- JSON object of the file's own columns (x_...)
    source_file             VARCHAR NOT NULL,       -- focus/<path> of the file
    source_row              BIGINT NOT NULL,        -- its CSV line or Parquet row
    export_name             VARCHAR NOT NULL,       -- the file, or the folder of part files
    exported_at             TIMESTAMP NOT NULL,     -- the export's latest file modification time
    load_id                 VARCHAR NOT NULL,       -- hash of the export's names and bytes
    loaded_at               TIMESTAMP NOT NULL      -- UTC time the export was landed
);

-- The export register: each export seen (by names, sizes and modification times), its identity and
-- what it held, so an unchanged export is neither hashed nor read again.
CREATE TABLE IF NOT EXISTS metering.focus_exports (
    export_name   VARCHAR NOT NULL,         -- the export: focus/<file>, or the folder of its part files
    fingerprint   VARCHAR NOT NULL,         -- JSON of the export's file names, sizes and modification times
    load_id       VARCHAR NOT NULL,         -- hash of the export's names and bytes
    row_count     BIGINT NOT NULL,          -- charges the export holds
    billed_cost   DECIMAL(38, 18) NOT NULL, -- sum of its BilledCost, in the charges' currencies as delivered, exact
    effective_cost DECIMAL(38, 18) NOT NULL -- sum of its EffectiveCost, in the charges' currencies as delivered, exact
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
