CREATE SCHEMA IF NOT EXISTS metering;

-- Revenue, attributed cost and gross margin per tenant and calendar month.
CREATE TABLE IF NOT EXISTS metering.unit_economics (
    tenant_id        VARCHAR NOT NULL,        -- the tenant
    period_start     DATE NOT NULL,           -- first day of the month
    revenue          DECIMAL(18, 2) NOT NULL, -- USD, cents: the bill's total (0 when the tenant has no bill)
    attributed_cost  DECIMAL(38, 18) NOT NULL, -- USD, exact: the tenant's cost + markup in the daily tenant summary over the month
    gross_margin     DECIMAL(38, 18) NOT NULL, -- USD, exact: revenue - attributed_cost
    gross_margin_pct DECIMAL(18, 4),          -- percent (100 x margin / revenue, 4 decimals); NULL when revenue is 0
    currency         VARCHAR NOT NULL,        -- USD
    provisional      BOOLEAN NOT NULL         -- TRUE while the month is not over
);

-- The published contract (spec ADR-046 §3): METERING.V_UNIT_ECONOMICS (internal finance).
CREATE OR REPLACE VIEW metering.v_unit_economics AS
SELECT tenant_id, period_start, revenue, attributed_cost, gross_margin, gross_margin_pct, currency, provisional
FROM metering.unit_economics;
