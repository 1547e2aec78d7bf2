"""The Snowflake credit SQL and the pieces it is bound with: one place, read by the assets and the bench.

No Dagster object here: the benchmark's bare-DuckDB baseline runs the same statements without loading
the definitions.
"""

from costattr_pipeline.lib.config import SnowflakeSettings
from costattr_pipeline.lib.money import largest_remainder_relation
from costattr_pipeline.lib.snowflake_usage import json_tag_pattern, pair_tag_pattern
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.lib.versioned_tables import VersionedTable

# config.snowflake_credit_price is created with the tables of each asset that loads it: before the asset's
# transaction (in Snowflake a DDL statement commits the open transaction).
CREDIT_PRICE_TABLES_SQL = sql_file(__file__, "snowflake_credit_price__tables.sql")
# Append-only (spec NFR-024): the rows staged by snowflake_credit_daily.sql are appended per changed day.
CREDIT_DAILY_VERSIONS = VersionedTable(
    table="metering.snowflake_credit_daily", staging="metering.snowflake_credit_daily_staged",
    figures=("cost_date", "warehouse_name", "tenant_id", "attribution", "credits", "credit_price_usd", "cost_usd"))
TABLES_SQL = (CREDIT_PRICE_TABLES_SQL + "\n" + sql_file(__file__, "snowflake_credit_daily__tables.sql") + "\n"
              + CREDIT_DAILY_VERSIONS.tables_sql())
CREDIT_DAILY_SQL = sql_file(__file__, "snowflake_credit_daily.sql")
RECONCILE_SQL = sql_file(__file__, "snowflake_credit_daily__reconcile.sql")
APPEND_SQL = CREDIT_DAILY_VERSIONS.append_sql()
AS_OF_SQL = sql_file(__file__, "snowflake_credit_daily__as_of.sql")
UNTAGGED_USERS_SQL = sql_file(__file__, "snowflake_credit_daily__untagged_users.sql")
REPORT_TABLES_SQL = CREDIT_PRICE_TABLES_SQL + "\n" + sql_file(__file__, "query_cost_reports__tables.sql")
RECURRING_QUERY_COST_SQL = sql_file(__file__, "snowflake_recurring_query_cost.sql")
HIERARCHICAL_QUERY_COST_SQL = sql_file(__file__, "snowflake_hierarchical_query_cost.sql")
# Shared pieces, each bound as a relation of the statements that read it.
PIECES = {
    "metered_credits": sql_file(__file__, "snowflake_metered_credits.sql"),
    "object_tenant_tags": sql_file(__file__, "snowflake_tenant_tags.sql"),
    "billed_cloud_services": sql_file(__file__, "snowflake_billed_cloud_services.sql"),
    "priced_queries": sql_file(__file__, "snowflake_priced_queries.sql"),
    # Every split of the credit SQL: the project's one largest-remainder rule over one of its CTEs.
    **{f"{name}_parts": largest_remainder_relation(f"{name}_split_input")
       for name in ("credit", "cloud_services", "cost")},
}


def credit_relations(account_usage: dict[str, str]) -> dict[str, str]:
    """What the Snowflake SQL reads: the ACCOUNT_USAGE views where they live (``account_usage.<view>`` ->
    a relation), and the shared pieces."""
    return {**account_usage, **PIECES}


def tag_parameters(snowflake: SnowflakeSettings) -> dict[str, object]:
    """The SQL parameters of the tenant rule: tag name and where it lives, query-tag patterns, idle policy."""
    return {"tenant_tag": snowflake.tenant_tag, "pair_tag_pattern": pair_tag_pattern(snowflake.tenant_tag),
            "json_tag_pattern": json_tag_pattern(snowflake.tenant_tag), "idle_policy": snowflake.idle_policy,
            "tag_database": snowflake.tag_database, "tag_schema": snowflake.tag_schema}
