CREATE SCHEMA IF NOT EXISTS metering;
CREATE SCHEMA IF NOT EXISTS landing;

-- usage/unit_drivers rows of the days a run covers (replaced per run window).
CREATE TABLE IF NOT EXISTS landing.unit_drivers (
    driver_date  DATE NOT NULL,           -- UTC day the driver value is for
    unit_type    VARCHAR NOT NULL,        -- unit type of unit_costs.yaml, e.g. Product
    unit_item    VARCHAR NOT NULL,        -- one item of the unit type, e.g. octo
    driver_value DECIMAL(38, 12) NOT NULL -- the item's driver (e.g. requests); its share = driver_value / the day's total
);

CREATE TABLE IF NOT EXISTS metering.unit_cost_allocation (
    cost_date          DATE NOT NULL,              -- UTC day whose cost is split
    unit_type          VARCHAR NOT NULL,           -- unit type of unit_costs.yaml, e.g. Product
    unit_item          VARCHAR NOT NULL,           -- one item of the unit type, e.g. octo
    share              DECIMAL(38, 18) NOT NULL,   -- the share used, a fraction (manual, or driver / day's total)
    allocated_cost_usd DECIMAL(18, 2) NOT NULL,    -- USD, cents by largest remainder; a unit type's parts add up to the pool
    pool_cost_usd      DECIMAL(18, 2) NOT NULL,    -- USD: the day's whole cost, rounded to cents half away from zero
    split_basis        VARCHAR NOT NULL            -- items | unit_drivers
);

CREATE TABLE IF NOT EXISTS metering.unit_cost_tags (
    cost_date DATE NOT NULL,             -- UTC day
    unit_type VARCHAR NOT NULL,          -- unit type of unit_costs.yaml
    category  VARCHAR NOT NULL,          -- <prefix>:<UnitType>, e.g. costattr:Product
    tag       VARCHAR NOT NULL           -- items sorted by name, each name:share (10 decimals) followed by |
);
