-- AWS cost of Kubernetes clusters' nodes (OCP on AWS), moved from the tenant tag value their nodes carry to the
-- tenants of the clusters' namespaces (relation k8s_aws_moved, see k8s_aws_moved.sql).
SELECT cost_date, tenant_id, module_id, 'aws' AS resource_type, cost_usd
FROM k8s_aws_moved
