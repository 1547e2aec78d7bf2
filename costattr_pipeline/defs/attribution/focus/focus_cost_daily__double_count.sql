-- Days of the window where FOCUS rows of provider AWS and Cost Explorer cost are both counted while
-- settings do not say which AWS billing accounts Cost Explorer fetches: the same money may count twice.
WITH focus_days AS (
    SELECT cost_date, MIN(billing_account_id) AS focus_billing_account_id,
           SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS focus_aws_usd
    FROM metering.focus_cost_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date AND counted
      AND resource_type IN ('focus_aws', 'focus_amazon_web_services')
    GROUP BY cost_date
),
cost_explorer_days AS (
    SELECT cost_date, SUM(CAST(amount_usd AS DECIMAL(38, 18))) AS cost_explorer_usd
    FROM metering.v_aws_cost_daily
    WHERE cost_date >= :start_date AND cost_date < :end_date
    GROUP BY cost_date
)
SELECT f.cost_date, f.focus_billing_account_id, f.focus_aws_usd, c.cost_explorer_usd
FROM focus_days AS f
JOIN cost_explorer_days AS c ON c.cost_date = f.cost_date
ORDER BY f.cost_date
LIMIT 20
