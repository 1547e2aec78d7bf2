-- Local target only: the Snowflake ACCOUNT_USAGE exports; each run replaces the days it covers (by START_TIME)
-- (the files are the source of truth; loading them again gives the same rows). In production the
-- transformations read SNOWFLAKE.ACCOUNT_USAGE in place and these tables are not used.
CREATE SCHEMA IF NOT EXISTS landing;

CREATE TABLE IF NOT EXISTS landing.snowflake_warehouse_metering_history (
    start_time                  TIMESTAMP NOT NULL,   -- UTC
    end_time                    TIMESTAMP,
    warehouse_id                BIGINT,
    warehouse_name              VARCHAR NOT NULL,
    credits_used                DECIMAL(38, 12),
    credits_used_compute        DECIMAL(38, 12) NOT NULL,
    credits_used_cloud_services DECIMAL(38, 12)
);

CREATE TABLE IF NOT EXISTS landing.snowflake_query_attribution_history (
    query_id                        VARCHAR NOT NULL,
    parent_query_id                 VARCHAR,
    root_query_id                   VARCHAR,
    warehouse_id                    BIGINT,
    warehouse_name                  VARCHAR NOT NULL,
    query_hash                      VARCHAR,
    query_parameterized_hash        VARCHAR,
    query_tag                       VARCHAR,
    user_name                       VARCHAR,
    start_time                      TIMESTAMP NOT NULL,   -- UTC
    end_time                        TIMESTAMP,
    credits_attributed_compute      DECIMAL(38, 12) NOT NULL,
    credits_used_query_acceleration DECIMAL(38, 12)
);

CREATE TABLE IF NOT EXISTS landing.snowflake_tag_references (
    tag_database    VARCHAR,
    tag_schema      VARCHAR,
    tag_name        VARCHAR NOT NULL,
    tag_value       VARCHAR,
    object_database VARCHAR,
    object_schema   VARCHAR,
    object_id       BIGINT,
    object_name     VARCHAR NOT NULL,
    domain          VARCHAR NOT NULL,
    column_name     VARCHAR,
    object_deleted  TIMESTAMP
);
