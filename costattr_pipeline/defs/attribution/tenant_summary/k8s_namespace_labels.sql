-- The relation k8s_namespace_labels: per day, cluster and namespace, the tenant and module its pods' labels
-- name (settings kubernetes.tenant_label and module_label, bound as JSON paths). A namespace whose pods
-- that day carry exactly one value of the label takes it; none or several different values: NULL
-- (unattributed, unless tenants.yaml `namespaces` maps it).
SELECT usage_date, cluster_id, namespace,
       CASE WHEN COUNT(DISTINCT tenant_value) = 1 THEN MIN(tenant_value) END AS label_tenant,
       CASE WHEN COUNT(DISTINCT module_value) = 1 THEN MIN(module_value) END AS label_module
FROM (
    SELECT usage_date, cluster_id, namespace,
           NULLIF(JSON_EXTRACT_STRING(pod_labels, :k8s_tenant_label_path), '') AS tenant_value,
           NULLIF(JSON_EXTRACT_STRING(pod_labels, :k8s_module_label_path), '') AS module_value
    FROM metering.k8s_pod_usage
    WHERE usage_date >= :start_date AND usage_date < :end_date
) AS labelled
GROUP BY usage_date, cluster_id, namespace
