"""Where the Snowflake ACCOUNT_USAGE views are read: exports locally, in place in production.

The transformations are written against three relations, ``account_usage.warehouse_metering_history``,
``account_usage.query_attribution_history`` and ``account_usage.tag_references``; this resource
says where they live. Locally they are the exports under ``<source dir>/snowflake/``, validated
and landed (as ``landing.snowflake_*``) by the ``landing/snowflake_account_usage`` asset. In
production the SQL reads ``SNOWFLAKE.ACCOUNT_USAGE.<VIEW>`` where it lives: nothing of the
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

from costattr_pipeline.lib.snowflake_usage import SOURCE_FOLDER, USAGE_VIEWS, stage_usage_export
from costattr_pipeline.lib.source_files import find_table_file, source_folder
from costattr_pipeline.resources.warehouse import WarehouseSession

_RELATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
LANDING_SCHEMA = "landing"


def landing_relation(view_name: str) -> str:
    """The landing table (or view) of an exported ACCOUNT_USAGE view, e.g. ``landing.snowflake_tag_references``."""
    return f"{LANDING_SCHEMA}.snowflake_{view_name}"


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

    @property
    def mapping(self) -> dict[str, str]:
        """The ``relations`` to bind SQL with: each ``account_usage.<view>`` the SQL names -> where it lives."""
        return {view.relation: getattr(self, view.name) for view in USAGE_VIEWS}


@dataclass(frozen=True)
class StagedExport:
    """One validated export in the local engine: the temp view of the run's rows, and what the file is."""

    view_name: str
    staged: str        # temp view of the validated rows of the run's window
    select: str        # the typed columns of the whole file (what a view over the file can be)
    parquet: bool


class SnowflakeUsageSource(dg.ConfigurableResource):
    """Gives the SQL the three ACCOUNT_USAGE relations, and locally the exports to land."""

    def stage_exports(self, engine: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
                      ) -> list[StagedExport] | None:
        """Validate the exports of ``[start, end)`` into ``engine``; None when the views are read in place."""
        raise NotImplementedError

    def relations(self, session: WarehouseSession) -> UsageRelations:
        """The relations to read in ``session``, as they stand (nothing is loaded)."""
        raise NotImplementedError


class SnowflakeUsageExports(SnowflakeUsageSource):
    """Local target: ``<source dir>/snowflake/<view>.csv|parquet`` (contract 2.2), validated per run window.

    The rows of the run's days (by START_TIME; TAG_REFERENCES, which has no time, whole) are
    validated in one pass each before anything is written; a missing file stages nothing and is
    reported in ``missing``.
    """

    source_dir: str = Field(description="Source exports folder")

    @property
    def folder(self) -> Path:
        return source_folder(self.source_dir) / SOURCE_FOLDER

    def _missing(self) -> tuple[str, ...]:
        return tuple(view.name for view in USAGE_VIEWS if find_table_file(self.folder, view.name) is None)

    def stage_exports(self, engine: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
                      ) -> list[StagedExport] | None:
        staged = []
        for view in USAGE_VIEWS:
            into = f"snowflake_staged_{view.name}"
            select = stage_usage_export(engine, self.folder, view, into, (start, end))
            if select is not None:
                path = find_table_file(self.folder, view.name)
                staged.append(StagedExport(view.name, into, select, path.suffix.lower() == ".parquet"))
        return staged

    def relations(self, session: WarehouseSession) -> UsageRelations:
        return UsageRelations(
            warehouse_metering_history=landing_relation("warehouse_metering_history"),
            query_attribution_history=landing_relation("query_attribution_history"),
            tag_references=landing_relation("tag_references"),
            missing=self._missing(),
        )


class SnowflakeAccountUsage(SnowflakeUsageSource):
    """Production: the ACCOUNT_USAGE views read in place by the SQL that runs in Snowflake.

    The views' timestamps are TIMESTAMP_LTZ: the production connection opens every session in UTC
    (``session_parameters``, :mod:`costattr_pipeline.resources.targets`) so that a day is a UTC day, as
    everywhere else in costattr.
    """

    account_usage_schema: str = Field(default="SNOWFLAKE.ACCOUNT_USAGE",
                                      description="Database.schema of the ACCOUNT_USAGE views (or a copy of them)")
    session_statements: list[str] = Field(default=[], description="Statements run before reading the views "
                                                                  "(the session is UTC already)")

    def stage_exports(self, engine: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
                      ) -> list[StagedExport] | None:
        return None  # nothing to copy: the views are read where they are

    def relations(self, session: WarehouseSession) -> UsageRelations:
        for statement in self.session_statements:
            session.execute(statement)
        schema = self.account_usage_schema
        return UsageRelations(
            warehouse_metering_history=f"{schema}.WAREHOUSE_METERING_HISTORY",
            query_attribution_history=f"{schema}.QUERY_ATTRIBUTION_HISTORY",
            tag_references=f"{schema}.TAG_REFERENCES",
        )
