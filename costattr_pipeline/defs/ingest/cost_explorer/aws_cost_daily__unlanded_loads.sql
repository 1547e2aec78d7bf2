-- Registered loads with at least one day in the window that is not landed yet.
SELECT DISTINCT registered.load_id
FROM metering.aws_cost_fetch_days AS registered
WHERE registered.cost_date >= :start_date
  AND registered.cost_date < :end_date
  AND NOT EXISTS (
      SELECT 1 FROM metering.aws_cost_daily AS landed
      WHERE landed.load_id = registered.load_id AND landed.cost_date = registered.cost_date
  )
