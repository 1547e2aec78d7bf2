-- Flatten one Cost Explorer fetch (a GetCostAndUsage response, or the array of its pages)
-- into one row per (page, period, group), from the pages table the fetch was read into
-- (`cost_explorer_pages`: page_no, definitions, results). Group keys are read through
-- GroupDefinitions: the position of the tenant tag, the module tag and the SERVICE dimension
-- is looked up per page, never assumed. {{metric}} is the configured metric, a quoted identifier.
WITH positioned AS (
    SELECT page_no, results,
           list_transform(definitions, lambda d: d."Type" || ':' || d."Key") AS definition_names,
           list_position(definition_names, 'TAG:' || :tenant_tag) AS tenant_position,
           list_position(definition_names, 'TAG:' || :module_tag) AS module_position,
           list_position(definition_names, 'DIMENSION:SERVICE') AS service_position
    FROM cost_explorer_pages
),
periods AS (
    SELECT page_no, definition_names, tenant_position, module_position, service_position,
           generate_subscripts(results, 1) AS period_no,
           unnest(results) AS period
    FROM positioned
),
groups AS (
    SELECT page_no, period_no, definition_names, tenant_position, module_position, service_position,
           period.TimePeriod."Start" AS period_start,
           period.Estimated AS estimated,
           generate_subscripts(period.Groups, 1) AS group_no,
           unnest(period.Groups) AS grp
    FROM periods
)
SELECT page_no, period_no, group_no,
       array_to_string(definition_names, ',') AS grouped_by,
       TRY_CAST(period_start AS DATE) AS cost_date,
       period_start,
       grp.Keys AS group_keys,
       len(grp.Keys) = len(definition_names) AS keys_match_definitions,
       grp.Keys[tenant_position] AS tenant_key,
       CASE WHEN module_position > 0 THEN grp.Keys[module_position] END AS module_key,
       CASE WHEN service_position > 0 THEN grp.Keys[service_position] END AS service,
       grp.Metrics.{{metric}}.Amount AS amount_text,
       grp.Metrics.{{metric}}.Unit AS unit,
       coalesce(estimated, FALSE) AS estimated
FROM groups
