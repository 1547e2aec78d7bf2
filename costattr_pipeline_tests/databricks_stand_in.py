"""A local stand-in for a Databricks SQL warehouse, at the connector's boundary.

``databricks.sql.connect`` is the official client's entry point; tests replace it (monkeypatch) with
:class:`DuckDBAsDatabricksSql`, which answers the project's Databricks SQL (``system.billing.*``) from
DuckDB tables of the same shape: the query is parsed as Databricks SQL by sqlglot and run on DuckDB.
Everything of costattr's own (the SQL text, binding, validation, landing) runs as in production.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot

# ``system`` is a reserved database name in DuckDB: the stand-in's catalog has another name, and each query's
# ``system.`` tables are pointed at it.
STAND_IN_CATALOG = "databricks_system"
# Fields of system.billing.usage's usage_metadata struct (Databricks documents more; these cover the exports').
USAGE_METADATA_FIELDS = ("cluster_id", "warehouse_id", "instance_pool_id", "node_type", "job_id", "job_run_id",
                         "job_name", "notebook_id", "notebook_path", "dlt_pipeline_id", "dlt_update_id",
                         "dlt_maintenance_id", "run_name", "endpoint_name", "endpoint_id", "app_id", "app_name",
                         "metastore_id", "budget_policy_id", "source_region", "destination_region")


def system_tables_connection(ddl: str = "") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the stand-in catalog; ``ddl`` (written against ``system.billing``) is run in it."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"ATTACH ':memory:' AS {STAND_IN_CATALOG}")
    if ddl:
        connection.execute(ddl.replace("system.billing", f"{STAND_IN_CATALOG}.billing"))
    return connection


def load_billing_exports(connection: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """``system.billing.usage`` and ``list_prices`` from the contract's Databricks exports (``usage.csv``,
    ``list_prices.csv``): the JSON columns become the system tables' MAP and STRUCT types."""
    catalog = f"{STAND_IN_CATALOG}.billing"
    metadata = json.dumps({name: "VARCHAR" for name in USAGE_METADATA_FIELDS})
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}")
    connection.execute(f"""
        CREATE TABLE {catalog}.usage AS
        SELECT record_id, account_id, workspace_id, sku_name, cloud,
               CAST(CAST(usage_start_time AS TIMESTAMPTZ) AS TIMESTAMP) AS usage_start_time,
               CAST(CAST(usage_end_time AS TIMESTAMPTZ) AS TIMESTAMP) AS usage_end_time,
               CAST(usage_date AS DATE) AS usage_date, usage_unit,
               CAST(usage_quantity AS DECIMAL(38, 18)) AS usage_quantity,
               CAST(CAST(custom_tags AS JSON) AS MAP(VARCHAR, VARCHAR)) AS custom_tags,
               json_transform(usage_metadata, '{metadata}') AS usage_metadata,
               record_type
        FROM read_csv('{folder / "usage.csv"}', all_varchar = true)""")
    connection.execute(f"""
        CREATE TABLE {catalog}.list_prices AS
        SELECT CAST(CAST(price_start_time AS TIMESTAMPTZ) AS TIMESTAMP) AS price_start_time,
               CAST(CAST(NULLIF(price_end_time, '') AS TIMESTAMPTZ) AS TIMESTAMP) AS price_end_time,
               account_id, sku_name, cloud, currency_code, usage_unit,
               json_transform(pricing, '{{"default": "DECIMAL(30, 18)", "promotional": {{"default": "DECIMAL(30, 18)"}},
                                          "effective_list": {{"default": "DECIMAL(30, 18)"}}}}') AS pricing
        FROM read_csv('{folder / "list_prices.csv"}', all_varchar = true)""")


def run_databricks_sql(connection: duckdb.DuckDBPyConnection, text: str) -> pa.Table:
    """What the SQL warehouse does with a bound query: parse it as Databricks SQL, run it (here on DuckDB)."""
    statement = sqlglot.parse_one(text, read="databricks")
    for table in statement.find_all(sqlglot.exp.Table):
        if table.catalog == "system":
            table.set("catalog", sqlglot.exp.to_identifier(STAND_IN_CATALOG))
    return connection.sql(statement.sql(dialect="duckdb")).to_arrow_table()


class DuckDBAsDatabricksSql:
    """The boundary only: a databricks-sql-connector connection (and cursor) answered by the stand-in tables."""

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection
        self.result: pa.Table | None = None
        self.statements: list[str] = []

    def __enter__(self) -> DuckDBAsDatabricksSql:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def cursor(self) -> DuckDBAsDatabricksSql:
        return self

    def execute(self, text: str, parameters: dict[str, object] | None = None) -> None:
        assert not parameters, "costattr binds its parameters into the statement"
        self.statements.append(text)
        self.result = run_databricks_sql(self.connection, text)

    def fetchall_arrow(self) -> pa.Table:
        assert self.result is not None
        return self.result
