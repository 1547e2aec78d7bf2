"""The warehouse resource: DuckDB locally, Snowflake in production, one interface.

Assets hand it SQL written once (see :mod:`costattr_pipeline.lib.sql`); the
session binds parameters, transpiles for Snowflake, and wraps a partition's
delete-and-insert in one transaction so a failed run changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
from pydantic import Field

from costattr_pipeline.lib import sql as sqltext


class WarehouseSession:
    """An open connection with the operations assets need; engine-specific parts are overridden."""

    dialect: str = sqltext.SOURCE_DIALECT

    def execute(self, text: str, params: Mapping[str, object] | None = None) -> None:
        raise NotImplementedError

    def query(self, text: str, params: Mapping[str, object] | None = None) -> pa.Table:
        raise NotImplementedError

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def rows(self, text: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        return self.query(text, params).to_pylist()

    def scalar(self, text: str, params: Mapping[str, object] | None = None) -> Any:
        table = self.query(text, params)
        return table.column(0)[0].as_py() if table.num_rows else None


class DuckDBSession(WarehouseSession):
    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection

    def execute(self, text: str, params: Mapping[str, object] | None = None) -> None:
        # DuckDB runs a multi-statement script in one call; the result is drained so
        # the connection is free for the next statement.
        self.connection.execute(sqltext.render(text, params)).fetchall()

    def query(self, text: str, params: Mapping[str, object] | None = None) -> pa.Table:
        return self.connection.sql(sqltext.render(text, params)).to_arrow_table()

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        self.connection.register("_costattr_incoming", rows)
        try:
            columns = ", ".join(rows.column_names)
            self.connection.execute(
                f"INSERT INTO {table_name} ({columns}) SELECT {columns} FROM _costattr_incoming"
            ).fetchall()
        finally:
            self.connection.unregister("_costattr_incoming")


class SnowflakeSession(WarehouseSession):
    dialect = "snowflake"

    def __init__(self, connection: Any):
        self.connection = connection

    def _run(self, text: str, params: Mapping[str, object] | None) -> Any:
        cursor = self.connection.cursor()
        for statement in sqltext.statements(sqltext.render(text, params), self.dialect):
            cursor.execute(statement)
        return cursor

    def execute(self, text: str, params: Mapping[str, object] | None = None) -> None:
        self._run(text, params)

    def query(self, text: str, params: Mapping[str, object] | None = None) -> pa.Table:
        cursor = self._run(text, params)
        names = [column[0].lower() for column in cursor.description]
        fetched = cursor.fetchall()
        return pa.table({name: [row[index] for row in fetched] for index, name in enumerate(names)})

    def insert_arrow(self, table_name: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        columns = ", ".join(rows.column_names)
        placeholders = ", ".join(["%s"] * rows.num_columns)
        cursor = self.connection.cursor()
        # executemany is batched into multi-row INSERTs by the connector.
        cursor.executemany(f"INSERT INTO {table_name} ({columns}) VALUES ({placeholders})",
                           [tuple(row.values()) for row in rows.to_pylist()])


class Warehouse(dg.ConfigurableResource):
    """Where costattr keeps its tables. Subclasses pick the engine."""

    @contextlib.contextmanager
    def session(self) -> Iterator[WarehouseSession]:
        raise NotImplementedError
        yield  # pragma: no cover


class DuckDBWarehouse(Warehouse):
    """The embedded default: one DuckDB file (single writer, so runs go one at a time)."""

    path: str = Field(description="DuckDB file, e.g. .costattr/warehouse.duckdb")
    memory_limit: str | None = Field(default=None, description="DuckDB memory_limit, e.g. '4GB'")
    threads: int | None = Field(default=None, description="DuckDB worker threads")

    @contextlib.contextmanager
    def session(self) -> Iterator[WarehouseSession]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        connection = duckdb.connect(self.path, config=config)
        try:
            # A day is a UTC day everywhere (and views over exports cast timestamps in this zone).
            connection.execute("SET TimeZone = 'UTC'")
            yield DuckDBSession(connection)
        finally:
            connection.close()
