CREATE SCHEMA IF NOT EXISTS metering;

-- costattr's attributed costs as a FOCUS 1.2 cost and usage dataset: one row per source charge and tenant
-- (split rows for a charge split between tenants). cost_date is costattr's partition key, not exported.
CREATE TABLE IF NOT EXISTS metering.focus_export (
    cost_date                 DATE NOT NULL,            -- UTC day of the charge: costattr's partition key, not exported
    AvailabilityZone          VARCHAR,                  -- FOCUS AvailabilityZone; NULL except on FOCUS charges
    BilledCost                DECIMAL(38, 18) NOT NULL, -- FOCUS BilledCost: USD, exact to 18 decimals (converted at the day's fx_to_usd rate)
    BillingAccountId          VARCHAR NOT NULL,         -- FOCUS BillingAccountId; unknown when the source does not say (docs/focus.md)
    BillingAccountName        VARCHAR,                  -- FOCUS BillingAccountName; FOCUS charges only
    BillingAccountType        VARCHAR,                  -- FOCUS BillingAccountType; NULL
    BillingCurrency           VARCHAR NOT NULL,         -- FOCUS BillingCurrency: always USD
    BillingPeriodEnd          TIMESTAMP NOT NULL,       -- FOCUS BillingPeriodEnd: exclusive end (UTC) of the charge's calendar month
    BillingPeriodStart        TIMESTAMP NOT NULL,       -- FOCUS BillingPeriodStart: start (UTC) of the charge's calendar month
    ChargeCategory            VARCHAR NOT NULL,         -- FOCUS ChargeCategory: Usage, else the FOCUS charge's own
    ChargeClass               VARCHAR,                  -- FOCUS ChargeClass (e.g. Correction); NULL except on FOCUS charges
    ChargeDescription         VARCHAR,                  -- FOCUS ChargeDescription: what was charged, in words
    ChargeFrequency           VARCHAR NOT NULL,         -- FOCUS ChargeFrequency: Usage-Based, else the FOCUS charge's own
    ChargePeriodEnd           TIMESTAMP NOT NULL,       -- FOCUS ChargePeriodEnd: exclusive end (UTC), next day 00:00 by default
    ChargePeriodStart         TIMESTAMP NOT NULL,       -- FOCUS ChargePeriodStart: start (UTC), the day 00:00 unless the charge says
    ConsumedQuantity          DECIMAL(38, 18),          -- FOCUS ConsumedQuantity, in ConsumedUnit (credits, DBUs, 1 Day for a day of cost)
    ConsumedUnit              VARCHAR,                  -- FOCUS ConsumedUnit: the unit of ConsumedQuantity
    ContractedCost            DECIMAL(38, 18) NOT NULL, -- FOCUS ContractedCost: USD, exact (BilledCost when no negotiated price is known)
    ContractedUnitPrice       DECIMAL(38, 18),          -- FOCUS ContractedUnitPrice: USD per PricingUnit; NULL except on FOCUS charges
    EffectiveCost             DECIMAL(38, 18) NOT NULL, -- FOCUS EffectiveCost: USD, exact to 18 decimals (amortized cost)
    InvoiceId                 VARCHAR,                  -- FOCUS InvoiceId: NULL, costattr issues no invoice
    InvoiceIssuerName         VARCHAR NOT NULL,         -- FOCUS InvoiceIssuerName: AWS, Snowflake, Databricks, the API provider
    ListCost                  DECIMAL(38, 18) NOT NULL, -- FOCUS ListCost: USD, exact (quantity x list price where known, else BilledCost)
    ListUnitPrice             DECIMAL(38, 18),          -- FOCUS ListUnitPrice: USD per PricingUnit, when known
    PricingCategory           VARCHAR,                  -- FOCUS PricingCategory: Standard, else the FOCUS charge's own
    PricingCurrency           VARCHAR,                  -- FOCUS PricingCurrency: USD when there is a pricing quantity
    PricingQuantity           DECIMAL(38, 18),          -- FOCUS PricingQuantity, in PricingUnit
    PricingUnit               VARCHAR,                  -- FOCUS PricingUnit: the unit prices are quoted in
    ProviderName              VARCHAR NOT NULL,         -- FOCUS ProviderName: who provided the service
    PublisherName             VARCHAR NOT NULL,         -- FOCUS PublisherName: who published the service
    RegionId                  VARCHAR,                  -- FOCUS RegionId; FOCUS charges only
    RegionName                VARCHAR,                  -- FOCUS RegionName; FOCUS charges only
    ResourceId                VARCHAR,                  -- FOCUS ResourceId: the Snowflake warehouse, or the FOCUS charge's own
    ResourceName              VARCHAR,                  -- FOCUS ResourceName: the Snowflake warehouse, or the FOCUS charge's own
    ResourceType              VARCHAR,                  -- FOCUS ResourceType: Warehouse for Snowflake, or the FOCUS charge's own
    ServiceCategory           VARCHAR NOT NULL,         -- FOCUS ServiceCategory (e.g. Compute, Storage, Databases)
    ServiceName               VARCHAR NOT NULL,         -- FOCUS ServiceName: the AWS service, Snowflake Warehouses, Databricks...
    ServiceSubcategory        VARCHAR NOT NULL,         -- FOCUS ServiceSubcategory (e.g. Virtual Machines)
    SkuId                     VARCHAR,                  -- FOCUS SkuId: AWS service, Databricks sku_name, snowflake-warehouse-compute
    SkuPriceId                VARCHAR,                  -- FOCUS SkuPriceId: as SkuId, or the FOCUS charge's own
    SubAccountId              VARCHAR,                  -- FOCUS SubAccountId: the Databricks workspace, or the FOCUS charge's own
    SubAccountName            VARCHAR,                  -- FOCUS SubAccountName; FOCUS charges only
    SubAccountType            VARCHAR,                  -- FOCUS SubAccountType: Sub Account when SubAccountId is set
    Tags                      VARCHAR,                  -- FOCUS Tags: JSON object, the FOCUS charge's own; NULL otherwise
    x_TenantId                VARCHAR,                  -- the tenant costattr attributed the row to; NULL: unattributed
    x_ModuleId                VARCHAR,                  -- the product module costattr attributed the row to; NULL: none
    x_AttributionRule         VARCHAR NOT NULL,         -- how the tenant was found: tag, column, provided, dedicated, proportional, idle...
    x_RateCardVersion         VARCHAR,                  -- external API rows: the rate card version binding the billing period; else NULL
    x_CostattrResourceType    VARCHAR NOT NULL,         -- resource_type of daily_tenant_summary: aws, snowflake, databricks, focus_<provider>...
    x_CountedCost             DECIMAL(38, 18) NOT NULL, -- USD, exact to 18 decimals: the amount costattr counts (the summary's cost_usd)
    x_SourceRecord            VARCHAR,                  -- where the row comes from: fetch file, warehouse, Databricks record, focus/<file>:<row>
    x_AllocatedMethodId       VARCHAR,                  -- FOCUS 1.3 allocation method of a split charge (snowflake_proportional...); NULL: whole
    x_AllocatedMethodDetails  VARCHAR,                  -- FOCUS 1.3 allocation details: the basis of the split; NULL on whole charges
    x_AllocatedResourceId     VARCHAR,                  -- FOCUS 1.3 allocated resource: the shared warehouse; NULL on whole charges
    x_AllocatedResourceName   VARCHAR                   -- FOCUS 1.3 allocated resource name: the shared warehouse; NULL on whole charges
);
