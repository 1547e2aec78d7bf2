-- Unattributed AWS cost per day (contract section 4, FR-396), replacing the run's window.
-- Money sums cast their argument to the money type: the result stays an exact decimal on every
-- engine (fakesnow would otherwise sum in DOUBLE).
DELETE FROM metering.unattributed_costs
WHERE cost_date >= :start_date AND cost_date < :end_date;

INSERT INTO metering.unattributed_costs
WITH day_totals AS (
    SELECT cost_date,
           SUM(CAST(amount_usd AS DECIMAL(38, 12))) AS total_aws_cost_usd,
           SUM(CAST(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END AS DECIMAL(38, 12))) AS unattributed_cost_usd
    FROM metering.v_aws_cost_daily
    -- An amount without a USD rate is left out (the landing's blocking check fx_rate_found fails).
    WHERE cost_date >= :start_date AND cost_date < :end_date AND amount_usd IS NOT NULL
    GROUP BY cost_date
)
SELECT d.cost_date,
       CAST(d.total_aws_cost_usd AS DECIMAL(38, 12)),
       CAST(d.unattributed_cost_usd AS DECIMAL(38, 12)),
       CAST(CASE WHEN d.total_aws_cost_usd = 0 THEN 0
                 ELSE d.unattributed_cost_usd / d.total_aws_cost_usd END AS DECIMAL(18, 12)),
       t.value,
       -- share > threshold, decided without division so it is exact whatever the engine:
       -- for a positive total, u / T > th  <=>  u > th * T (the inequality flips for a negative total).
       CASE WHEN d.total_aws_cost_usd > 0 THEN d.unattributed_cost_usd > t.value * d.total_aws_cost_usd
            WHEN d.total_aws_cost_usd < 0 THEN d.unattributed_cost_usd < t.value * d.total_aws_cost_usd
            ELSE FALSE END
FROM day_totals AS d
JOIN config.unattributed_threshold AS t
  ON d.cost_date >= t.effective_from AND (t.effective_to IS NULL OR d.cost_date < t.effective_to);
