-- Local target only: the Snowflake ACCOUNT_USAGE exports; each run replaces the days it covers (by START_TIME)
-- (the files are the source of truth; loading them again gives the same rows). In production the
-- transformations read SNOWFLAKE.ACCOUNT_USAGE in place and these tables are not used.
CREATE SCHEMA IF NOT EXISTS landing;

CREATE TABLE IF NOT EXISTS landing.snowflake_warehouse_metering_history (
    start_time                  TIMESTAMP NOT NULL,   -- UTC
    end_time                    TIMESTAMP,            -- UTC end of the hour (exclusive)
    warehouse_id                BIGINT,               -- Snowflake's id of the warehouse
    warehouse_name              VARCHAR NOT NULL,     -- the warehouse
    credits_used                DECIMAL(38, 12),      -- Snowflake credits of the hour: compute + cloud services
    credits_used_compute        DECIMAL(38, 12) NOT NULL, -- Snowflake credits the warehouse's compute used in the hour
    credits_used_cloud_services DECIMAL(38, 12)       -- Snowflake credits of cloud services in the hour, before the daily adjustment
);

CREATE TABLE IF NOT EXISTS landing.snowflake_query_attribution_history (
    query_id                        VARCHAR NOT NULL,     -- the query
    parent_query_id                 VARCHAR,              -- the query that ran it (e.g. a stored procedure's CALL); NULL: top level
    root_query_id                   VARCHAR,              -- the top of its query tree; NULL: top level
    warehouse_id                    BIGINT,               -- Snowflake's id of the warehouse it ran on
    warehouse_name                  VARCHAR NOT NULL,     -- the warehouse it ran on
    query_hash                      VARCHAR,              -- hash of the query text
    query_parameterized_hash        VARCHAR,              -- hash of the text with its literals replaced: recurring queries share it
    query_tag                       VARCHAR,              -- the session's QUERY_TAG (may name the tenant)
    user_name                       VARCHAR,              -- the Snowflake user who ran it
    start_time                      TIMESTAMP NOT NULL,   -- UTC
    end_time                        TIMESTAMP,            -- UTC
    credits_attributed_compute      DECIMAL(38, 12) NOT NULL, -- Snowflake credits of compute attributed to the query (idle excluded)
    credits_used_query_acceleration DECIMAL(38, 12)       -- Snowflake credits of the query acceleration service
);

CREATE TABLE IF NOT EXISTS landing.snowflake_tag_references (
    tag_database    VARCHAR,          -- database of the tag
    tag_schema      VARCHAR,          -- schema of the tag
    tag_name        VARCHAR NOT NULL, -- the tag, e.g. TENANT_ID
    tag_value       VARCHAR,          -- the tag's value on the object (the tenant for a tenant tag)
    object_database VARCHAR,          -- database of the tagged object; NULL for account-level objects
    object_schema   VARCHAR,          -- schema of the tagged object; NULL for account-level objects
    object_id       BIGINT,           -- Snowflake's id of the tagged object
    object_name     VARCHAR NOT NULL, -- the tagged object, e.g. a warehouse or a user
    domain          VARCHAR NOT NULL, -- the kind of object: WAREHOUSE, USER, ...
    column_name     VARCHAR,          -- the tagged column; NULL unless domain is COLUMN
    object_deleted  TIMESTAMP         -- UTC time the object was dropped; NULL: it exists
);
