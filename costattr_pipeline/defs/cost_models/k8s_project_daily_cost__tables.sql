CREATE SCHEMA IF NOT EXISTS config;
CREATE SCHEMA IF NOT EXISTS metering;

-- Every version of every cost model ever used: append-only, one row per content hash (first seen).
CREATE TABLE IF NOT EXISTS config.cost_model_history (
    cost_model_hash VARCHAR NOT NULL,        -- sha256 (16 hex digits) of the model's canonical JSON
    name            VARCHAR NOT NULL,        -- the model's name
    source_type     VARCHAR NOT NULL,        -- OCP, AWS, SNOWFLAKE or DATABRICKS
    source_uuids    VARCHAR NOT NULL,        -- JSON array of cluster ids (OCP); [] = every cluster no model names
    markup_percent  DECIMAL(18, 4) NOT NULL, -- markup in percent
    distribution    VARCHAR NOT NULL,        -- cpu or memory
    model_json      VARCHAR NOT NULL,        -- the model itself, as validated (canonical JSON)
    first_seen_at   TIMESTAMP NOT NULL       -- UTC time a run first used this version
);

-- The rates of every model version: append-only, written once with the version's history row.
CREATE TABLE IF NOT EXISTS config.cost_model_rates (
    cost_model_hash VARCHAR NOT NULL,        -- the model version
    rate_index      INTEGER NOT NULL,        -- position in the model's rates
    metric          VARCHAR NOT NULL,        -- e.g. cpu_core_usage_per_hour, node_cost_per_month
    cost_type       VARCHAR NOT NULL,        -- Infrastructure or Supplementary
    tag_key         VARCHAR,                 -- NULL: a tiered rate
    tag_value       VARCHAR,                 -- the label value a tag rate matches
    is_default      BOOLEAN NOT NULL,        -- the tag rate of a value no entry names
    usage_start     DECIMAL(38, 9),          -- graduated tier: quantity from which it applies (NULL: 0)
    usage_end       DECIMAL(38, 9),          -- graduated tier: quantity up to which it applies (NULL: open)
    rate            DECIMAL(38, 9) NOT NULL  -- USD per unit of the metric
);

-- The models in force (cost_model.yaml as of the last run): replaced on every run.
CREATE TABLE IF NOT EXISTS config.cost_model_current (
    cost_model_hash VARCHAR NOT NULL,        -- the model version
    source_type     VARCHAR NOT NULL,        -- OCP, AWS, SNOWFLAKE or DATABRICKS
    cluster_id      VARCHAR,                 -- a cluster it names; NULL: every cluster no model names
    markup_fraction DECIMAL(18, 6) NOT NULL, -- markup percent / 100
    distribution    VARCHAR NOT NULL,        -- cpu or memory
    platform_cost   BOOLEAN NOT NULL,        -- distribution_info: distribute platform cost
    worker_cost     BOOLEAN NOT NULL,        -- distribution_info: distribute Worker unallocated
    storage_unattributed BOOLEAN NOT NULL,   -- distribution_info: distribute Storage unattributed
    network_unattributed BOOLEAN NOT NULL    -- distribution_info: distribute Network unattributed
);

-- Contract section 5: the cost of each namespace on each node, per day and cost type, priced by the cluster's
-- cost model. Amounts in USD, exact to 15 decimal places.
CREATE TABLE IF NOT EXISTS metering.k8s_project_daily_cost (
    usage_date             DATE NOT NULL,            -- UTC day
    cluster_id             VARCHAR NOT NULL,         -- the cluster
    node                   VARCHAR,                  -- the node; NULL for storage (claims have no node)
    namespace              VARCHAR NOT NULL,         -- the namespace, or Worker unallocated, Platform unallocated, Storage unattributed
    cost_type              VARCHAR NOT NULL,         -- Infrastructure or Supplementary (never added into one another)
    cost_model_cpu_cost    DECIMAL(38, 15) NOT NULL, -- CPU rates, and node/cluster costs when distribution is cpu, and VMs
    cost_model_memory_cost DECIMAL(38, 15) NOT NULL, -- memory rates, and node/cluster costs when distribution is memory
    cost_model_volume_cost DECIMAL(38, 15) NOT NULL, -- storage rates and PVC monthly costs
    cost_model_network_cost DECIMAL(38, 15) NOT NULL, -- network_cost_per_gb x GB in + out
    infrastructure_raw_cost DECIMAL(38, 15) NOT NULL, -- the cloud's cost of the nodes (OCP on a cloud), spread like a node cost
    markup_cost            DECIMAL(38, 15) NOT NULL, -- raw_cost x markup percent / 100, rounded half away from zero
    raw_cost               DECIMAL(38, 15) NOT NULL, -- cpu + memory + volume + network + infrastructure raw cost
    distributed_cost       DECIMAL(38, 15) NOT NULL, -- cost moved in (+) or out (-) by distribution (0 until it runs)
    total_cost             DECIMAL(38, 15) NOT NULL, -- raw_cost + markup_cost + distributed_cost
    cost_model_hash        VARCHAR NOT NULL          -- the cost model version that priced it (config.cost_model_history)
);
