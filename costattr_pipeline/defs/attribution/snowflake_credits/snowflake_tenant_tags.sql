-- The tenant object tag on warehouses and users, as the relation `object_tenant_tags`: only the tag of
-- the configured tag database and schema counts (an export without those columns is taken as theirs,
-- so a same-named tag elsewhere attributes nothing); dropped tags and objects (OBJECT_DELETED) are ignored.
SELECT UPPER(domain) AS domain, object_id, object_name, MIN(TRIM(tag_value)) AS tenant_id
FROM account_usage.tag_references
WHERE UPPER(tag_name) = UPPER(:tenant_tag)
  AND (tag_database IS NULL OR UPPER(tag_database) = UPPER(:tag_database))
  AND (tag_schema IS NULL OR UPPER(tag_schema) = UPPER(:tag_schema))
  AND UPPER(domain) IN ('WAREHOUSE', 'USER')
  AND object_deleted IS NULL
  AND NULLIF(TRIM(tag_value), '') IS NOT NULL
GROUP BY UPPER(domain), object_id, object_name
