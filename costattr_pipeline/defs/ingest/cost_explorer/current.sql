-- Replace the run's days of metering.aws_cost_current with metering.aws_cost_day_rows: per day, the
-- latest fetch's rows of the preferred grouping (tenant x service, else tenant x module). One rank
-- does both steps of the views: the smallest (grouping preference, grouping, newest fetch) wins.
DELETE FROM metering.aws_cost_current
WHERE cost_date >= :start_date AND cost_date < :end_date;

INSERT INTO metering.aws_cost_current
SELECT *
FROM metering.aws_cost_daily
WHERE cost_date >= :start_date AND cost_date < :end_date
QUALIFY DENSE_RANK() OVER (
    PARTITION BY cost_date
    ORDER BY CASE WHEN grouped_by LIKE '%DIMENSION:SERVICE%' THEN 0 ELSE 1 END, grouped_by,
             source_name DESC, loaded_at DESC, load_id DESC
) = 1;
