SELECT driver_date, unit_type, unit_item, SUM(CAST(driver_value AS DECIMAL(38, 12))) AS driver_value
FROM landing.unit_drivers
WHERE driver_date >= :start_date AND driver_date < :end_date
GROUP BY driver_date, unit_type, unit_item
ORDER BY driver_date, unit_type, unit_item
