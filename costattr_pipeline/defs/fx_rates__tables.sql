CREATE SCHEMA IF NOT EXISTS config;

-- settings.yaml fx_to_usd, replaced by every asset that converts: USD per unit of each currency, dated.
CREATE TABLE IF NOT EXISTS config.fx_to_usd (
    currency       VARCHAR NOT NULL,          -- ISO 4217, upper case; USD is never listed (rate 1)
    effective_from DATE NOT NULL,             -- first day in force (inclusive)
    effective_to   DATE,                      -- first day no longer in force (exclusive); NULL: open
    rate           DECIMAL(20, 10) NOT NULL   -- USD per unit of currency, exact (10 decimals)
);
