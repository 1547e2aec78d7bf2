-- Replace the window's usage events with the staged file's rows of those days.
DELETE FROM metering.usage_events
WHERE usage_date >= :start_date AND usage_date < :end_date;

INSERT INTO metering.usage_events (event_id, tenant_id, module_id, metric, quantity, event_time, usage_date)
SELECT event_id, tenant_id, module_id, metric, quantity, event_time, usage_date
FROM metering.usage_events_staging
WHERE usage_date >= :start_date AND usage_date < :end_date;

DELETE FROM metering.usage_events_staging;
