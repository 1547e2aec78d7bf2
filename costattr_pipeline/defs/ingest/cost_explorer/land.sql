-- Append the staged rows of the run's window that are not landed yet.
-- A (load_id, cost_date) pair already present means that fetch already landed that day.
INSERT INTO metering.aws_cost_daily
SELECT staged.*
FROM metering.aws_cost_staging AS staged
WHERE staged.cost_date >= :start_date
  AND staged.cost_date < :end_date
  AND NOT EXISTS (
      SELECT 1
      FROM metering.aws_cost_daily AS landed
      WHERE landed.load_id = staged.load_id
        AND landed.cost_date = staged.cost_date
  );
DELETE FROM metering.aws_cost_staging;
