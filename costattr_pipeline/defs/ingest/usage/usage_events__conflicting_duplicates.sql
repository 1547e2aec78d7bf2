-- The same event_id delivered with different content: only the earliest copy counts. Copies are rare,
-- so the ids seen more than once are found first and only their contents compared (building the
-- content of every one of a year's 2 M events cost more than the rest of the check).
WITH repeated AS (
    SELECT event_id
    FROM metering.usage_events
    WHERE event_id IN (SELECT event_id FROM metering.usage_events
                       WHERE usage_date >= :start_date AND usage_date < :end_date)
    GROUP BY event_id
    HAVING COUNT(*) > 1
)
SELECT event_id, COUNT(*) AS copies
FROM metering.usage_events
WHERE event_id IN (SELECT event_id FROM repeated)
GROUP BY event_id
HAVING COUNT(DISTINCT tenant_id || '|' || COALESCE(module_id, '') || '|' || metric || '|'
                      || CAST(quantity AS VARCHAR)) > 1
ORDER BY event_id
LIMIT 20
