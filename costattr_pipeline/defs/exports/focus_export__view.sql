-- costattr's attributed costs as a FOCUS 1.2 cost and usage dataset: one row per source charge and tenant (split
-- rows for a charge split between tenants). costattr's own sources are read from the tables of what varies
-- (focus_export__tables.sql) through as_focus/*.sql and focus_export__rows.sql (the relation costattr_rows);
-- FOCUS charges, and rows of earlier versions, are stored whole. cost_date is costattr's partition key.
CREATE OR REPLACE VIEW metering.focus_export AS
SELECT * FROM costattr_rows
UNION ALL
SELECT * FROM metering.focus_export_rows;
