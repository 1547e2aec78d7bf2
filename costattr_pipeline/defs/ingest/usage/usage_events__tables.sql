CREATE SCHEMA IF NOT EXISTS metering;

-- Usage events as delivered (at-least-once: an event_id may repeat), replaced per day window.
CREATE TABLE IF NOT EXISTS metering.usage_events (
    event_id   VARCHAR NOT NULL,         -- the sender's id; a repeated id is one event
    tenant_id  VARCHAR NOT NULL,         -- the tenant who used the product
    module_id  VARCHAR,                  -- the product module used, when given
    metric     VARCHAR NOT NULL,         -- usage metric priced by the rate card, e.g. api_calls
    quantity   DECIMAL(38, 12) NOT NULL, -- units of the metric, exact, not negative
    event_time TIMESTAMP NOT NULL,       -- UTC
    usage_date DATE NOT NULL             -- UTC day of event_time
);

CREATE TABLE IF NOT EXISTS metering.usage_events_staging AS SELECT * FROM metering.usage_events WHERE 1 = 0;

-- The events that count: a repeated event_id counts once, as its earliest delivery
-- (ties broken on the content, so the choice never depends on load order). Deduplication
-- is over all landed days, so a retry delivered on a later day is not counted twice.
-- Billing reads its months through usage_events_unique__window.sql, which ranks the same way: change both.
CREATE OR REPLACE VIEW metering.usage_events_unique AS
SELECT *
FROM metering.usage_events
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY event_id
    ORDER BY event_time, tenant_id, module_id NULLS FIRST, metric, quantity
) = 1;
