"""Where the Snowflake ACCOUNT_USAGE views are read: landed exports locally, in place in production.

The transformations are written against three relations whose names this
resource gives. Locally, the exports under ``<source dir>/snowflake/`` are
validated and loaded into ``landing.snowflake_*`` tables, once per run, by the
``landing/snowflake_account_usage`` asset. In production, the
SQL reads ``SNOWFLAKE.ACCOUNT_USAGE.<VIEW>`` where it lives: nothing of the
account's history is copied out of Snowflake.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from costattr_pipeline.lib import snowflake_usage
from costattr_pipeline.lib.snowflake_usage import SOURCE_FOLDER, USAGE_VIEWS, bind_views, stage_usage_export
from costattr_pipeline.lib.source_files import find_table_file
from costattr_pipeline.lib.sql import literal, sql_file
from costattr_pipeline.resources.warehouse import DuckDBSession, WarehouseSession

LANDING_TABLES_SQL = sql_file(snowflake_usage.__file__, "snowflake_usage_landing.sql")
_RELATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")


@dataclass(frozen=True)
class UsageRelations:
    """The relation (table or view) that holds each ACCOUNT_USAGE view, and which ones had no data source."""

    warehouse_metering_history: str
    query_attribution_history: str
    tag_references: str
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (self.warehouse_metering_history, self.query_attribution_history, self.tag_references):
            if not _RELATION.match(name):
                raise ValueError(f"not a relation name: {name!r}")

    def bind(self, sql: str) -> str:
        """Put the relation names into SQL written with ``{{warehouse_metering_history}}``-style placeholders."""
        return bind_views(sql, {view.name: getattr(self, view.name) for view in USAGE_VIEWS})


class SnowflakeUsageSource(dg.ConfigurableResource):
    """Gives the SQL the three ACCOUNT_USAGE relations, ready to read in the given session."""

    def land(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRelations:
        """Make the days ``[start, end)`` readable (locally: validate and land them); the relations."""
        raise NotImplementedError

    def relations(self, session: WarehouseSession) -> UsageRelations:
        """The relations to read in ``session``, as they stand (nothing is loaded)."""
        raise NotImplementedError


class SnowflakeUsageExports(SnowflakeUsageSource):
    """Local target: ``<source dir>/snowflake/<view>.csv|parquet`` (contract 2.2), validated per run window.

    The rows of the run's days (by START_TIME; TAG_REFERENCES, which has no time, whole) are
    validated in one pass each before anything is written. Then, on the DuckDB warehouse:

    - a **Parquet** export is read in place, as production reads ACCOUNT_USAGE in place:
      ``landing.snowflake_<view>`` becomes a view of its typed columns over the file. Copying
      20 M query rows a year into a table cost 13 s and saved its readers nothing: DuckDB reads
      the Parquet file as fast as its own table.
    - a **CSV** export is text: its run's days replace those days in the table
      ``landing.snowflake_<view>`` (parsed once, not by every reader).

    On another warehouse the validated rows are sent as Arrow into the landing tables. A
    missing file lands nothing and is reported in ``missing``.
    """

    source_dir: str = Field(description="Source exports folder")

    def _missing(self) -> tuple[str, ...]:
        folder = Path(self.source_dir) / SOURCE_FOLDER
        return tuple(view.name for view in USAGE_VIEWS if find_table_file(folder, view.name) is None)

    def relations(self, session: WarehouseSession) -> UsageRelations:
        session.execute(LANDING_TABLES_SQL)  # tables for the views not read in place (IF NOT EXISTS)
        return UsageRelations(
            warehouse_metering_history="landing.snowflake_warehouse_metering_history",
            query_attribution_history="landing.snowflake_query_attribution_history",
            tag_references="landing.snowflake_tag_references",
            missing=self._missing(),
        )

    def land(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRelations:
        folder = Path(self.source_dir) / SOURCE_FOLDER
        window = (literal(start), literal(end))
        in_warehouse = isinstance(session, DuckDBSession)
        engine = session.connection if in_warehouse else duckdb.connect()
        try:
            # Every export is validated (one pass each) before anything is written.
            typed = {view.name: stage_usage_export(engine, folder, view, f"snowflake_staged_{view.name}", window)
                     for view in USAGE_VIEWS}
            in_place = {view.name for view in USAGE_VIEWS if in_warehouse and typed[view.name] is not None
                        and find_table_file(folder, view.name).suffix.lower() == ".parquet"}
            with session.transaction():
                session.execute("CREATE SCHEMA IF NOT EXISTS landing")
                kinds = {row["name"]: row["kind"] for row in session.rows(
                    "SELECT table_name AS name, table_type AS kind FROM information_schema.tables "
                    "WHERE table_schema = 'landing'")}
                for view in USAGE_VIEWS:
                    relation = f"landing.snowflake_{view.name}"
                    existing = kinds.get(f"snowflake_{view.name}")
                    if view.name in in_place:
                        if existing == "BASE TABLE":
                            session.execute(f"DROP TABLE {relation}")
                        session.execute(f"CREATE OR REPLACE VIEW {relation} AS {typed[view.name]}")
                    elif existing == "VIEW":  # the export is CSV now, or gone: land into a table again
                        session.execute(f"DROP VIEW {relation}")
                relations = self.relations(session)  # creates the landing tables not read in place
                for view in USAGE_VIEWS:
                    if view.name in in_place:
                        continue
                    table = f"landing.snowflake_{view.name}"
                    if view.has_start_time:
                        session.execute(f"DELETE FROM {table} WHERE start_time >= :start AND start_time < :end",
                                        {"start": start, "end": end})
                    else:
                        session.execute(f"DELETE FROM {table}")
                    if typed[view.name] is None:
                        continue
                    staged = f"snowflake_staged_{view.name}"
                    columns = ", ".join(column.name.lower() for column in view.columns)
                    if in_warehouse:
                        session.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}")
                    else:
                        session.insert_arrow(table, engine.sql(f"SELECT {columns} FROM {staged}").to_arrow_table())
        finally:
            if not in_warehouse:
                engine.close()
        return relations


class SnowflakeAccountUsage(SnowflakeUsageSource):
    """Production: the ACCOUNT_USAGE views read in place by the SQL that runs in Snowflake.

    The views' timestamps are TIMESTAMP_LTZ; the session time zone is set to UTC first so that
    a day is a UTC day, as everywhere else in costattr.
    """

    account_usage_schema: str = Field(default="SNOWFLAKE.ACCOUNT_USAGE",
                                      description="Database.schema of the ACCOUNT_USAGE views (or a copy of them)")
    session_statements: list[str] = Field(default=["ALTER SESSION SET TIMEZONE = 'UTC'"],
                                          description="Statements run before reading the views")

    def land(self, session: WarehouseSession, start: dt.date, end: dt.date) -> UsageRelations:
        return self.relations(session)  # nothing to copy: the views are read where they are

    def relations(self, session: WarehouseSession) -> UsageRelations:
        for statement in self.session_statements:
            session.execute(statement)
        schema = self.account_usage_schema
        return UsageRelations(
            warehouse_metering_history=f"{schema}.WAREHOUSE_METERING_HISTORY",
            query_attribution_history=f"{schema}.QUERY_ATTRIBUTION_HISTORY",
            tag_references=f"{schema}.TAG_REFERENCES",
        )
