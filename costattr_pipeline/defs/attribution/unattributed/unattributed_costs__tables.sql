CREATE SCHEMA IF NOT EXISTS metering;
CREATE SCHEMA IF NOT EXISTS config;

CREATE TABLE IF NOT EXISTS config.unattributed_threshold (
    effective_from DATE NOT NULL,
    effective_to   DATE,                   -- NULL: open
    value          DECIMAL(9, 6) NOT NULL
);

CREATE TABLE IF NOT EXISTS metering.unattributed_costs (
    cost_date             DATE NOT NULL,
    total_aws_cost_usd    DECIMAL(38, 12) NOT NULL,
    unattributed_cost_usd DECIMAL(38, 12) NOT NULL,
    unattributed_share    DECIMAL(18, 12) NOT NULL,
    threshold_used        DECIMAL(9, 6) NOT NULL,
    exceeds_threshold     BOOLEAN NOT NULL
);
