CREATE SCHEMA IF NOT EXISTS metering;
CREATE SCHEMA IF NOT EXISTS config;

CREATE TABLE IF NOT EXISTS config.unattributed_threshold (
    effective_from DATE NOT NULL,          -- first day in force (inclusive)
    effective_to   DATE,                   -- first day no longer in force (exclusive); NULL: open
    value          DECIMAL(9, 6) NOT NULL  -- the threshold, a fraction of the day's AWS cost (0.02 = 2 %)
);

-- Contract section 4 (FR-396): one row per UTC day with landed Cost Explorer rows (the latest fetch).
CREATE TABLE IF NOT EXISTS metering.unattributed_costs (
    cost_date             DATE NOT NULL,             -- UTC day of the cost
    total_aws_cost_usd    DECIMAL(38, 12) NOT NULL,  -- USD, exact: every group of the day's latest rows
    unattributed_cost_usd DECIMAL(38, 12) NOT NULL,  -- USD, exact: the groups with an empty tenant tag
    unattributed_share    DECIMAL(18, 12) NOT NULL,  -- unattributed / total, a fraction (0.02 = 2 %); 0 when the total is 0
    threshold_used        DECIMAL(9, 6) NOT NULL,    -- fraction in force that day (settings.yaml, default 0.02)
    exceeds_threshold     BOOLEAN NOT NULL           -- share strictly greater than the threshold (compared exactly)
);

-- The published contract (spec ADR-046 §3): METERING.V_UNATTRIBUTED_COSTS (FR-396), what alerting,
-- dashboards and reports read.
CREATE OR REPLACE VIEW metering.v_unattributed_costs AS
SELECT cost_date, total_aws_cost_usd, unattributed_cost_usd, unattributed_share, threshold_used, exceeds_threshold
FROM metering.unattributed_costs;
