-- Flatten Cost Explorer fetches (each a GetCostAndUsage response, or the array of its pages) into one
-- row per (file, page, period, group). The relation cost_explorer_pages is the pages (page_no,
-- filename, definitions, results): read straight from the files (page_no NULL, the fast path) or
-- from the numbered pages table of one file, which names the place of a problem. Group keys are
-- read through GroupDefinitions: the position of the tenant tag, the module tag and the SERVICE
-- dimension is looked up per page, never assumed. :metric is the configured metric's name.
--
-- A page that breaks a page rule (no ResultsByTime, no GroupDefinitions, no tenant tag, an unknown
-- grouping) keeps one marker row (page_ok FALSE, is_group FALSE), so that one pass over this table
-- screens whole fetches; only rows with is_group are cost.
WITH positioned AS (
    SELECT page_no, filename, results,
           list_transform(definitions, lambda d: d."Type" || ':' || d."Key") AS definition_names,
           list_position(definition_names, 'TAG:' || :tenant_tag) AS tenant_position,
           list_position(definition_names, 'TAG:' || :module_tag) AS module_position,
           list_position(definition_names, 'DIMENSION:SERVICE') AS service_position,
           coalesce(results IS NOT NULL AND tenant_position > 0
                    AND len(list_filter(definition_names, lambda name: name NOT IN (
                        'TAG:' || :tenant_tag, 'TAG:' || :module_tag, 'DIMENSION:SERVICE'))) = 0,
                    FALSE) AS page_ok
    FROM cost_explorer_pages
),
periods AS (
    SELECT page_no, filename, page_ok, definition_names, tenant_position, module_position, service_position,
           generate_subscripts(CASE WHEN page_ok THEN results ELSE [NULL] END, 1) AS period_no,
           unnest(CASE WHEN page_ok THEN results ELSE [NULL] END) AS period
    FROM positioned
),
groups AS (
    SELECT page_no, filename, page_ok, period_no, definition_names, tenant_position, module_position, service_position,
           period.TimePeriod."Start" AS period_start,
           period.Estimated AS estimated,
           generate_subscripts(CASE WHEN page_ok THEN period.Groups ELSE [NULL] END, 1) AS group_no,
           unnest(CASE WHEN page_ok THEN period.Groups ELSE [NULL] END) AS grp
    FROM periods
)
SELECT filename, page_no, period_no, group_no, page_ok,
       grp IS NOT NULL AS is_group,
       array_to_string(definition_names, ',') AS grouped_by,
       TRY_CAST(period_start AS DATE) AS cost_date,
       period_start,
       grp.Keys AS group_keys,
       len(grp.Keys) = len(definition_names) AS keys_match_definitions,
       grp.Keys[tenant_position] AS tenant_key,
       CASE WHEN module_position > 0 THEN grp.Keys[module_position] END AS module_key,
       CASE WHEN service_position > 0 THEN grp.Keys[service_position] END AS service,
       struct_extract(struct_extract(grp.Metrics, :metric), 'Amount') AS amount_text,
       struct_extract(struct_extract(grp.Metrics, :metric), 'Unit') AS unit,
       coalesce(estimated, FALSE) AS estimated
FROM groups
