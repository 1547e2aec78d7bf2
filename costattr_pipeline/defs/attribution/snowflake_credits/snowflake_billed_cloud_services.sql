-- Per UTC day, the account's compute credits and the cloud-services credits Snowflake bills for them
-- (relation `billed_cloud_services`): cloud services are billed only above 10 % of the day's compute
-- credits (Snowflake's daily adjustment), rounded to the credit's 9 decimals.
SELECT cost_date,
       SUM(CAST(metered_credits AS DECIMAL(38, 12))) AS compute_credits,
       ROUND(GREATEST(SUM(CAST(cloud_services_credits AS DECIMAL(38, 12)))
                      - SUM(CAST(metered_credits AS DECIMAL(38, 12))) * CAST(0.1 AS DECIMAL(3, 1)),
                      CAST(0 AS DECIMAL(38, 12))), 9) AS billed_cloud_services
FROM metered_credits
GROUP BY cost_date
