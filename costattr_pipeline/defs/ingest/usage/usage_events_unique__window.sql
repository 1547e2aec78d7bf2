-- The rows of metering.usage_events_unique whose usage_date is in [:start_date, :end_date), for a run to bind in
-- the view's place: the view ranks every copy of every event_id ever landed (0.7 s a month at 2 M events a
-- year, growing with the history), since a filter on the day cannot pass its window function. An event counts
-- as its earliest copy, and a copy earlier than one of the window's is on the same day or an earlier one
-- (usage_date is event_time's day): so ranking the window's rows with the earlier copies of their event ids
-- chooses what the view chooses. A copy chosen from before the window counts on its own day, not here.
WITH in_window AS (
    SELECT * FROM metering.usage_events WHERE usage_date >= :start_date AND usage_date < :end_date
), copies AS (
    SELECT * FROM in_window
    UNION ALL
    SELECT * FROM metering.usage_events
    WHERE usage_date < :start_date AND event_id IN (SELECT event_id FROM in_window)
)
SELECT *
FROM (
    SELECT *
    FROM copies
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY event_id
        ORDER BY event_time, tenant_id, module_id NULLS FIRST, metric, quantity
    ) = 1
) AS counted
WHERE usage_date >= :start_date
