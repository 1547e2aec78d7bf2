-- Fetch files whose latest delivery holds a day of the window it has not landed yet. Rows of earlier
-- deliveries of the same bytes under the same name do not count (loaded_at before the delivery's).
SELECT DISTINCT delivery.source_name
FROM metering.aws_cost_current_deliveries AS delivery
JOIN metering.aws_cost_fetch_days AS registered ON registered.load_id = delivery.load_id
WHERE registered.cost_date >= :start_date
  AND registered.cost_date < :end_date
  AND NOT EXISTS (
      SELECT 1 FROM metering.aws_cost_daily AS landed
      WHERE landed.load_id = delivery.load_id AND landed.source_name = delivery.source_name
        AND landed.loaded_at >= delivery.loaded_at AND landed.cost_date = registered.cost_date
  )
