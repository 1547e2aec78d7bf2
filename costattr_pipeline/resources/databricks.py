"""Databricks billing readers: local exports, or the live system tables through Databricks SQL.

Both hand the landing asset validated landing rows (see :mod:`costattr_pipeline.lib.databricks`):
the live reader fetches Arrow from the SQL warehouse and runs it through the same
validation and projection as the exports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pyarrow as pa
from pydantic import Field

from costattr_pipeline.lib import databricks as billing


@dataclass(frozen=True)
class BillingFetch:
    """What one landing run read: usage rows of the window and the list prices (None: source absent)."""

    usage: pa.Table | None
    list_prices: pa.Table | None
    source: str


class DatabricksBillingSource(dg.ConfigurableResource):
    """Where ``system.billing.usage`` and ``system.billing.list_prices`` rows come from."""

    def fetch(self, start: dt.date, end: dt.date, log: Any) -> BillingFetch:
        raise NotImplementedError


class DatabricksBillingExports(DatabricksBillingSource):
    """Local target: ``<source dir>/databricks/usage`` and ``list_prices`` (CSV or Parquet)."""

    source_dir: str = Field(description="Source exports folder")

    def fetch(self, start: dt.date, end: dt.date, log: Any) -> BillingFetch:
        return BillingFetch(usage=billing.read_usage_export(self.source_dir, start, end),
                            list_prices=billing.read_list_prices_export(self.source_dir),
                            source=f"{self.source_dir}/{billing.FOLDER}")


class DatabricksSqlBilling(DatabricksBillingSource):
    """Production: the system tables queried on a Databricks SQL warehouse (databricks-sql-connector).

    Usage is read incrementally: only the rows whose ``usage_date`` lies in the run's window,
    with the list prices whose window overlaps it. The queries are the ``.sql`` files in
    ``costattr_pipeline/lib`` and run as written (Databricks SQL, native named parameters).
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

    def fetch(self, start: dt.date, end: dt.date, log: Any) -> BillingFetch:
        params = {"start_date": start, "end_date": end}
        with self._connect() as connection, connection.cursor() as cursor:
            cursor.execute(billing.LIVE_USAGE_SQL, params)
            usage = cursor.fetchall_arrow()
            cursor.execute(billing.LIVE_LIST_PRICES_SQL, params)
            prices = cursor.fetchall_arrow()
        source = f"databricks://{self.server_hostname}{self.http_path}"
        log.info(f"Read {usage.num_rows} usage row(s) for [{start}, {end}) and {prices.num_rows} list price(s) "
                 f"from {source}")
        name = f"system.billing.usage [{start}, {end})"
        return BillingFetch(usage=billing.usage_landing_rows(usage, name, name),
                            list_prices=billing.list_price_landing_rows(prices, "system.billing.list_prices"),
                            source=source)
