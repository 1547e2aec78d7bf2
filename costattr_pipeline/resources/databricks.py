"""Databricks billing readers: local exports, or the live system tables through Databricks SQL.

Both stage validated landing rows in the warehouse's local engine for the landing asset to write
(see :mod:`costattr_pipeline.lib.databricks`): the live reader fetches Arrow from the SQL warehouse
and runs it through the same validation and projection as the exports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
from pydantic import Field

from costattr_pipeline.lib import databricks as billing
from costattr_pipeline.lib.errors import ServiceError, without_secrets
from costattr_pipeline.lib.sql import bind_script
from costattr_pipeline.lib.source_files import source_folder


USAGE_RELATION = "databricks_landing_usage"
LIST_PRICES_RELATION = "databricks_landing_list_prices"


@dataclass(frozen=True)
class StagedBilling:
    """What one landing run found, validated in the local engine as the relations ``databricks_landing_usage``
    and ``databricks_landing_list_prices`` (landing shape), and where it was read."""

    usage_found: bool
    list_prices_found: bool
    source: str


class DatabricksBillingSource(dg.ConfigurableResource):
    """Where ``system.billing.usage`` and ``system.billing.list_prices`` rows come from."""

    def stage(self, engine: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, log: Any) -> StagedBilling:
        """Validate the usage of ``[start, end)`` and the list prices into the local ``engine``.

        A bad row raises before anything is written; the landing asset then copies the two relations.
        """
        raise NotImplementedError


class DatabricksBillingExports(DatabricksBillingSource):
    """Local target: ``<source dir>/databricks/usage`` and ``list_prices`` (CSV or Parquet).

    On the DuckDB warehouse the usage export is validated by DuckDB inside the warehouse
    connection, for the run's days only, and landed from the file: a 5-million-row export never
    passes through Python.
    """

    source_dir: str = Field(description="Source exports folder")

    def stage(self, engine: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, log: Any) -> StagedBilling:
        prices = billing.read_list_prices_export(source_folder(self.source_dir))
        path = billing.usage_export(self.source_dir)
        if path is not None:
            select = billing.stage_usage(engine, path, f"{billing.FOLDER}/{path.name}", "databricks_staged_usage",
                                         start, end)
            engine.execute(f"CREATE OR REPLACE TEMP VIEW {USAGE_RELATION} AS {select}")
        if prices is not None:
            _register(engine, LIST_PRICES_RELATION, prices)
        return StagedBilling(usage_found=path is not None, list_prices_found=prices is not None,
                             source=f"{self.source_dir}/{billing.FOLDER}")


def _register(engine: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    engine.register(f"{name}_arrow", rows)
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_arrow")


class DatabricksSqlBilling(DatabricksBillingSource):
    """Production: the system tables queried on a Databricks SQL warehouse (databricks-sql-connector).

    Usage is read incrementally: only the rows whose ``usage_date`` lies in the run's window,
    with the list prices whose window overlaps it. The queries are the ``.sql`` files in
    ``costattr_pipeline/lib``, in Databricks SQL, bound like every other statement of costattr.
    """

    server_hostname: str = Field(description="Workspace host, e.g. dbc-1234.cloud.databricks.com")
    http_path: str = Field(description="HTTP path of the SQL warehouse, e.g. /sql/1.0/warehouses/abc123")
    access_token: str = Field(description="Personal access or service principal token (use an EnvVar)")

    def _connect(self) -> Any:
        from databricks import sql as databricks_sql

        # UTC session: timestamps come back as the UTC wall clock the landing tables hold.
        return databricks_sql.connect(server_hostname=self.server_hostname, http_path=self.http_path,
                                      access_token=self.access_token,
                                      session_configuration={"TIMEZONE": "UTC"})

    def fetch(self, start: dt.date, end: dt.date, log: Any) -> tuple[pa.Table, pa.Table, str]:
        """The window's usage and the list prices, validated, as landing rows; and where they were read."""
        from databricks.sql.exc import Error as DatabricksError

        params = {"start_date": start, "end_date": end}
        source = f"databricks://{self.server_hostname}{self.http_path}"
        try:
            with self._connect() as connection, connection.cursor() as cursor:
                cursor.execute(bind_script(billing.LIVE_USAGE_SQL, params, dialect="databricks", read="databricks"))
                usage = cursor.fetchall_arrow()
                cursor.execute(bind_script(billing.LIVE_LIST_PRICES_SQL, params, dialect="databricks",
                                           read="databricks"))
                prices = cursor.fetchall_arrow()
        except DatabricksError as error:  # unreachable, or the token refused: one line, never the token
            raise ServiceError("Databricks SQL", f"{self.server_hostname}{self.http_path}",
                               without_secrets(str(error) or type(error).__name__, [self.access_token])) from None
        log.info(f"Read {usage.num_rows} usage row(s) for [{start}, {end}) and {prices.num_rows} list price(s) "
                 f"from {source}")
        name = f"system.billing.usage [{start}, {end})"
        return (billing.usage_landing_rows(usage, name, name),
                billing.list_price_landing_rows(prices, "system.billing.list_prices"), source)

    def stage(self, engine: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, log: Any) -> StagedBilling:
        usage, prices, source = self.fetch(start, end, log)
        _register(engine, USAGE_RELATION, usage)
        _register(engine, LIST_PRICES_RELATION, prices)
        return StagedBilling(usage_found=True, list_prices_found=True, source=source)
