"""Product metering (usage events, external API costs): where the landing assets read it, per target.

Locally the platform exports it as files under the source folder (:class:`UsageExports`); in production
the product writes it to Snowflake tables, read in place (:class:`UsageTables`). Either way the landing
asset gets a :class:`UsageRows`: the run's validated rows (nothing written yet), which it stages into its
own staging table inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, Rule, source_folder
from costattr_pipeline.lib.table_sources import (SourceRelation, checked_rows, first_problem_query, raise_for_row,
                                                 reject_costattr_table, typed_columns)
from costattr_pipeline.lib.usage_sources import (COST_CURRENCY, CURRENCY_CODE, EXTERNAL_API_COST_COLUMNS,
                                                 EXTERNAL_API_COST_KEY, NON_NEGATIVE_QUANTITY, USAGE_EVENT_COLUMNS,
                                                 USAGE_EVENT_KEY, read_external_api_costs, read_usage_events)
from costattr_pipeline.resources.warehouse import WarehouseSession

@dataclass(frozen=True)
class UsageRows:
    """A run's validated rows of one source: ``name`` (file or table), ``count`` (None: the source is absent),
    and how they are copied into a staging table (Arrow rows from a file, or a SELECT run in the warehouse)."""

    name: str
    count: int | None
    arrow: pa.Table | None = None
    select: str | None = None            # over ``source_table``, bound with ``relations`` and ``params``
    relations: dict[str, str] | None = None
    params: dict[str, Any] | None = None
    columns: tuple[str, ...] = ()

    def stage(self, session: WarehouseSession, staging: str) -> None:
        """Append the rows to ``staging`` (inside the caller's transaction), matched by column name."""
        if self.arrow is not None:
            session.insert_arrow(staging, self.arrow)
        elif self.select is not None:
            columns = ", ".join(self.columns)
            session.execute(f"INSERT INTO {staging} ({columns}) SELECT {columns} FROM ({self.select}) AS validated",
                            self.params, self.relations)


class UsageSource(dg.ConfigurableResource):
    """Gives the landing assets the validated usage events and external API costs of a run's days."""

    def usage_events(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRows:
        """The events of ``[start, end)`` (by event_time, UTC), validated, with their ``usage_date``."""
        raise NotImplementedError

    def external_api_costs(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRows:
        """The costs of ``[start, end)`` (by cost_date), validated; currency upper case (empty: USD), an empty
        tenant_id NULL."""
        raise NotImplementedError


class UsageExports(UsageSource):
    """Local target: ``<source dir>/usage/usage_events`` and ``usage/external_api_costs`` (CSV or Parquet).

    A run validates what it computes (its days), not the file's whole history.
    """

    source_dir: str = Field(description="Source exports folder")

    def usage_events(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRows:
        events, name = read_usage_events(source_folder(self.source_dir), (start, end))
        if events is None:
            return UsageRows(f"{name}.csv/.parquet", None)
        events = events.append_column("usage_date", pc.cast(events["event_time"], pa.date32()))
        return UsageRows(name, events.num_rows, arrow=events)

    def external_api_costs(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRows:
        costs, name = read_external_api_costs(source_folder(self.source_dir), (start, end))
        if costs is None:
            return UsageRows(f"{name}.csv/.parquet", None)
        return UsageRows(name, costs.num_rows, arrow=costs)


class UsageTables(UsageSource):
    """Production: the product's metering tables in Snowflake, validated and copied inside the warehouse.

    The tables are settings.yaml ``usage_source`` (default ``PRODUCT.METERING.USAGE_EVENTS`` and
    ``PRODUCT.METERING.EXTERNAL_API_COSTS``). A table in costattr's own schema (``METERING`` of the database
    costattr writes to) is refused: Snowflake names are case-insensitive, so the product's
    ``METERING.USAGE_EVENTS`` there would be the very table costattr's landing replaces.
    """

    usage_events_table: str = Field(description="[database.]schema.table of the product's usage events")
    external_api_costs_table: str = Field(description="[database.]schema.table of the external API costs")

    def usage_events(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRows:
        return self._read(session, "usage_events", self.usage_events_table, USAGE_EVENT_COLUMNS,
                          [NON_NEGATIVE_QUANTITY], "event_time", USAGE_EVENT_KEY, start, end,
                          ["event_id", "tenant_id", "module_id", "metric", "quantity", "event_time",
                           "CAST(event_time AS DATE) AS usage_date"])

    def external_api_costs(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRows:
        return self._read(session, "external_api_costs", self.external_api_costs_table, EXTERNAL_API_COST_COLUMNS,
                          [CURRENCY_CODE], "cost_date", EXTERNAL_API_COST_KEY, start, end,
                          ["cost_date", "NULLIF(TRIM(tenant_id), '') AS tenant_id", "module_id", "provider", "amount",
                           f"COALESCE(NULLIF(UPPER(TRIM(currency)), ''), '{COST_CURRENCY}') AS currency"])

    def _read(self, session: WarehouseSession, setting: str, name: str, columns: tuple[Column, ...],
              rules: list[Rule], window_column: str, key: tuple[str, ...], start: dt.date, end: dt.date,
              projection: list[str]) -> UsageRows:
        try:
            source = SourceRelation.parse(name)
        except ValueError as error:
            raise SourceError(f"settings.yaml usage_source.{setting}", None, str(error)) from None
        reject_costattr_table(setting, name, str(session.scalar("SELECT CURRENT_DATABASE()")))
        found = {str(row["name"]): str(row["type"])
                 for row in session.rows(source.columns_query(), source.columns_params())}
        if not found:
            return UsageRows(f"table {name}", None)
        typed = typed_columns(source, columns, found)
        relations = {"source_table": name}
        params = {"start_date": start, "end_date": end}
        query, messages = first_problem_query(typed, rules, window_column, key)
        bad = session.rows(query, params, relations)
        if bad:
            raise_for_row(source, bad[0], messages, key)
        rows = checked_rows(typed, window_column)
        count = int(session.scalar(f"SELECT COUNT(*) FROM ({rows}) AS window_rows", params, relations))
        select = f"SELECT {', '.join(projection)} FROM ({rows}) AS window_rows"
        names = tuple(expression.rsplit(" AS ", 1)[-1] for expression in projection)
        return UsageRows(name, count, select=select, relations=relations, params=params, columns=names)
