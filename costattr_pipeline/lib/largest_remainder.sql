-- The project's one largest-remainder rule, in SQL (lib/money.py `largest_remainder` is the same rule in
-- Python, and the reference of the property tests). Each row of `split_input` is one part of a whole:
--   split_group      the whole it is a part of (one text: callers join their key columns);
--   split_item       text that orders ties, NULL last (a tenant; NULL = unattributed);
--   split_subitem    a second tie-break text, NULL last (e.g. the warehouse), may be NULL everywhere;
--   numerator, denominator
--                    the part's exact value is numerator / denominator (denominator > 0, the same on
--                    every row of a group, so remainders compare without dividing);
--   rounded_total    the whole the parts must add up to (a multiple of split_unit, the same on every row);
--   split_unit       the precision of a part (0.000000001 credit, 0.000001 USD, 0.01 USD...).
-- Every part is first floored to the unit (estimated in DOUBLE, then decided by exact decimal
-- multiplication: DuckDB divides decimals in DOUBLE); the units still missing go one each to the rows
-- with the largest remainders, ties to the item that sorts first, NULL items last. So each part is
-- within one unit of its exact value and the parts add up to rounded_total exactly.
-- Output: the input columns, plus split_part.
WITH estimated AS (
    SELECT s.*,
           CAST(FLOOR(CAST(s.numerator AS DOUBLE) / CAST(s.denominator AS DOUBLE)
                      / CAST(s.split_unit AS DOUBLE)) AS DECIMAL(38, 0)) AS estimated_units
    FROM split_input AS s
),
floored AS (
    SELECT e.*,
           CASE WHEN (estimated_units + 1) * split_unit * denominator <= numerator THEN estimated_units + 1
                WHEN estimated_units * split_unit * denominator <= numerator THEN estimated_units
                ELSE estimated_units - 1 END AS floor_units
    FROM estimated AS e
),
ranked AS (
    SELECT f.*,
           ROW_NUMBER() OVER (PARTITION BY split_group
                              ORDER BY numerator - floor_units * split_unit * denominator DESC,
                                       split_item ASC NULLS LAST, split_subitem ASC NULLS LAST) AS remainder_rank,
           SUM(floor_units) OVER (PARTITION BY split_group) AS floored_units
    FROM floored AS f
)
SELECT r.*,
       (floor_units + CASE WHEN remainder_rank <= CAST(rounded_total / split_unit AS DECIMAL(38, 0)) - floored_units
                           THEN 1 ELSE 0 END) * split_unit AS split_part
FROM ranked AS r
