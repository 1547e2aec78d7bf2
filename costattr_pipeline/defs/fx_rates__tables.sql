CREATE SCHEMA IF NOT EXISTS config;

-- settings.yaml fx_to_usd, replaced by every asset that converts: USD per unit of each currency, dated.
CREATE TABLE IF NOT EXISTS config.fx_to_usd (
    currency       VARCHAR NOT NULL,          -- ISO 4217, upper case; USD is never listed (rate 1)
    effective_from DATE NOT NULL,
    effective_to   DATE,                      -- NULL: open
    rate           DECIMAL(20, 10) NOT NULL   -- USD per unit
);
