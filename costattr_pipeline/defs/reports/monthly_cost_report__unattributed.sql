-- The unattributed AWS share of each day of the month, with the threshold in force.
SELECT cost_date, total_aws_cost_usd, unattributed_cost_usd, unattributed_share, threshold_used, exceeds_threshold
FROM metering.v_unattributed_costs
WHERE cost_date >= :start_date AND cost_date < :end_date
ORDER BY cost_date
