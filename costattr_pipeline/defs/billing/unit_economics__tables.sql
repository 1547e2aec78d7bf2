CREATE SCHEMA IF NOT EXISTS metering;

-- Revenue, attributed cost and gross margin per tenant and calendar month.
CREATE TABLE IF NOT EXISTS metering.unit_economics (
    tenant_id        VARCHAR NOT NULL,
    period_start     DATE NOT NULL,
    revenue          DECIMAL(18, 2) NOT NULL,
    attributed_cost  DECIMAL(38, 18) NOT NULL,
    gross_margin     DECIMAL(38, 18) NOT NULL,
    gross_margin_pct DECIMAL(18, 4),          -- percent; NULL when revenue is 0
    currency         VARCHAR NOT NULL,
    provisional      BOOLEAN NOT NULL
);
