CREATE SCHEMA IF NOT EXISTS metering;

-- kubernetes/pod_usage as landed: one row per pod and day, the window replaced on each run.
CREATE TABLE IF NOT EXISTS metering.k8s_pod_usage (
    usage_date                    DATE NOT NULL,           -- UTC day of the usage
    cluster_id                    VARCHAR NOT NULL,        -- the cluster (a cost model's source_uuids name it)
    node                          VARCHAR NOT NULL,        -- the node the pod ran on
    node_role                     VARCHAR NOT NULL,        -- worker, master or infra
    namespace                     VARCHAR NOT NULL,        -- the pod's namespace (project)
    pod                           VARCHAR NOT NULL,        -- the pod
    pod_labels                    VARCHAR,                 -- JSON object of the pod's labels
    cpu_core_usage_hours          DECIMAL(38, 6) NOT NULL, -- core-hours used
    cpu_core_request_hours        DECIMAL(38, 6) NOT NULL, -- core-hours requested
    memory_gb_usage_hours         DECIMAL(38, 6) NOT NULL, -- GB-hours used
    memory_gb_request_hours       DECIMAL(38, 6) NOT NULL, -- GB-hours requested
    node_capacity_cpu_core_hours  DECIMAL(38, 6) NOT NULL, -- the node's core-hours that day
    node_capacity_memory_gb_hours DECIMAL(38, 6) NOT NULL  -- the node's GB-hours that day
);

-- kubernetes/storage_usage as landed: one row per claim and day; no namespace and pvc = unattributed storage.
CREATE TABLE IF NOT EXISTS metering.k8s_storage_usage (
    usage_date                DATE NOT NULL,           -- UTC day of the usage
    cluster_id                VARCHAR NOT NULL,        -- the cluster
    namespace                 VARCHAR,                 -- the claim's namespace; NULL: storage no claim holds
    pvc                       VARCHAR,                 -- the persistent volume claim; NULL: unattributed
    storage_class             VARCHAR,                 -- storage class (gold, silver...)
    volume_labels             VARCHAR,                 -- JSON object of the volume's labels
    storage_gb_usage_months   DECIMAL(38, 6) NOT NULL, -- GB-months used that day
    storage_gb_request_months DECIMAL(38, 6) NOT NULL  -- GB-months requested that day
);

-- kubernetes/vm_usage as landed (optional): one row per virtual machine and day.
CREATE TABLE IF NOT EXISTS metering.k8s_vm_usage (
    usage_date DATE NOT NULL,    -- UTC day the machine ran
    cluster_id VARCHAR NOT NULL, -- the cluster
    node       VARCHAR NOT NULL, -- the node it ran on
    namespace  VARCHAR NOT NULL, -- its namespace
    vm_name    VARCHAR NOT NULL, -- the virtual machine
    vm_labels  VARCHAR           -- JSON object of its labels
);

-- kubernetes/network_usage as landed (optional): data transferred per node, namespace and day.
CREATE TABLE IF NOT EXISTS metering.k8s_network_usage (
    usage_date           DATE NOT NULL,           -- UTC day of the traffic
    cluster_id           VARCHAR NOT NULL,        -- the cluster
    node                 VARCHAR NOT NULL,        -- the node
    namespace            VARCHAR,                 -- the namespace; NULL: traffic no pod claims (unattributed)
    data_transfer_in_gb  DECIMAL(38, 6) NOT NULL, -- GB received
    data_transfer_out_gb DECIMAL(38, 6) NOT NULL  -- GB sent
);

-- kubernetes/node_infrastructure_cost as landed (optional): the cloud's daily cost of each node (OCP on a cloud).
CREATE TABLE IF NOT EXISTS metering.k8s_node_infrastructure_cost (
    usage_date  DATE NOT NULL,           -- UTC day
    cluster_id  VARCHAR NOT NULL,        -- the cluster
    node        VARCHAR NOT NULL,        -- the node
    resource_id VARCHAR,                 -- the cloud's id of the machine
    cost_usd    DECIMAL(38, 9) NOT NULL  -- what the cloud charged for the node that day
);
