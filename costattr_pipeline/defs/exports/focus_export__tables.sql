CREATE SCHEMA IF NOT EXISTS metering;

-- metering.focus_export is a view (focus_export__view.sql): costattr's own sources store only what varies from
-- row to row, one table each, and the view writes out the FOCUS columns. Writing 55 columns of 38 million rows
-- a year was most of the export's time (docs/benchmarks.md); what each table stores is frozen when the day is
-- exported (the tenant a namespace had, the rate card version in force), so the view never changes a past day.

-- Cost Explorer: one row per latest group of the day (tenant x service), as the summary counts it.
CREATE TABLE IF NOT EXISTS metering.focus_export_aws (
    cost_date          DATE NOT NULL,            -- UTC day of the cost
    billing_account_id VARCHAR NOT NULL,         -- the Cost Explorer account when settings name one, else unknown
    service            VARCHAR,                  -- the AWS service of the group
    grouped_by         VARCHAR,                  -- what the fetch grouped by (the tenant tag)
    tenant_id          VARCHAR,                  -- the group's tenant; NULL: unattributed
    module_id          VARCHAR,                  -- the group's module; NULL: none
    amount_usd         DECIMAL(38, 18) NOT NULL, -- USD, exact: the amount the summary counts
    source_name        VARCHAR                   -- the fetch file the group comes from
);

-- The AWS cost of Kubernetes clusters' nodes, split over the tenants of the clusters' namespaces.
CREATE TABLE IF NOT EXISTS metering.focus_export_aws_on_kubernetes (
    cost_date          DATE NOT NULL,            -- UTC day of the cost
    billing_account_id VARCHAR NOT NULL,         -- the Cost Explorer account when settings name one, else unknown
    cluster_id         VARCHAR NOT NULL,         -- the Kubernetes cluster whose nodes the cost is tagged with
    tenant_id          VARCHAR,                  -- the tenant of the cluster's namespaces; NULL: unattributed
    module_id          VARCHAR,                  -- their module; NULL: none
    cost_usd           DECIMAL(38, 18) NOT NULL  -- USD, exact: the tenant's part, as the summary counts it
);

-- Snowflake: per day, warehouse, tenant and attribution, the credits and their cost.
CREATE TABLE IF NOT EXISTS metering.focus_export_snowflake (
    cost_date          DATE NOT NULL,            -- UTC day of the credits
    billing_account_id VARCHAR NOT NULL,         -- the Snowflake account (unknown: costattr is not told)
    warehouse_name     VARCHAR NOT NULL,         -- the warehouse that used the credits
    attribution        VARCHAR NOT NULL,         -- dedicated, proportional, unattributed or idle
    tenant_id          VARCHAR,                  -- the tenant; NULL: none
    credits            DECIMAL(38, 18),          -- credits of the row
    cost_usd           DECIMAL(38, 18) NOT NULL  -- USD, exact: the amount the summary counts
);

-- Databricks: every priced usage record in USD.
CREATE TABLE IF NOT EXISTS metering.focus_export_databricks (
    cost_date          DATE NOT NULL,            -- UTC day of the usage
    billing_account_id VARCHAR NOT NULL,         -- the Databricks account, unknown when the record has none
    workspace_id       VARCHAR,                  -- the Databricks workspace
    sku_name           VARCHAR NOT NULL,         -- the SKU billed
    record_type        VARCHAR NOT NULL,         -- ORIGINAL, RETRACTION, RESTATEMENT
    usage_quantity     DECIMAL(38, 18) NOT NULL, -- units of usage_unit, exact
    usage_unit         VARCHAR NOT NULL,         -- the unit of usage_quantity (DBU when the record has none)
    list_unit_price    DECIMAL(38, 18),          -- USD per usage_unit when the list price is in USD; NULL otherwise
    cost_usd           DECIMAL(38, 18) NOT NULL, -- USD, exact: the amount the summary counts
    tenant_id          VARCHAR,                  -- the tenant tag; NULL: untagged
    record_id          VARCHAR NOT NULL          -- system.billing.usage record_id
);

-- External API costs as charged by the providers, passed through under the rate card.
CREATE TABLE IF NOT EXISTS metering.focus_export_external_api (
    cost_date          DATE NOT NULL,            -- UTC day of the cost
    provider           VARCHAR NOT NULL,         -- the API provider
    tenant_id          VARCHAR,                  -- the tenant the provider names; NULL: unattributed
    module_id          VARCHAR,                  -- the module; NULL: none
    amount_usd         DECIMAL(38, 18) NOT NULL, -- USD, exact: the amount the summary counts
    rate_card_version  VARCHAR                   -- the rate card version in force in the cost's month when exported
);

-- Kubernetes: per day, cluster, node, namespace and cost type, the namespace's total cost.
CREATE TABLE IF NOT EXISTS metering.focus_export_kubernetes (
    cost_date          DATE NOT NULL,            -- UTC day of the usage
    cluster_id         VARCHAR NOT NULL,         -- the cluster
    node               VARCHAR,                  -- the node; NULL on a namespace's storage or network cost
    namespace          VARCHAR NOT NULL,         -- the namespace (or Worker/Platform unallocated...)
    cost_type          VARCHAR NOT NULL,         -- Infrastructure or Supplementary
    total_cost         DECIMAL(38, 18) NOT NULL, -- USD, exact: raw + markup + distributed, the amount the summary counts
    distributed        BOOLEAN NOT NULL,         -- whether the row gave or received distributed cost
    tenant_id          VARCHAR,                  -- the tenant when exported (namespace map, else pod label); NULL: none
    module_id          VARCHAR,                  -- the pods' module label; NULL: none
    attribution_rule   VARCHAR NOT NULL          -- k8s_namespace_map, k8s_pod_label or unattributed
);

-- Rows kept whole, as FOCUS rows: the counted charges of FOCUS datasets (they come with every FOCUS column),
-- and the rows exported by costattr versions before the view (the table they were written to is this one).
-- cost_date is costattr's partition key, not exported.
CREATE TABLE IF NOT EXISTS metering.focus_export_rows (
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
