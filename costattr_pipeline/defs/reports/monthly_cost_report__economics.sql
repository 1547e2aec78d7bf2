-- Revenue, attributed cost and gross margin of each tenant in the month.
SELECT tenant_id, revenue, attributed_cost, gross_margin, gross_margin_pct
FROM metering.v_unit_economics
WHERE period_start = :start_date
ORDER BY tenant_id
