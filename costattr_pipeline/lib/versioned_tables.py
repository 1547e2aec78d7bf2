"""Append-only versioned tables (spec NFR-024): one description, the same register, view and append step.

A versioned table is never updated or deleted: a run stages its rows, the days whose rows differ from
their current version are appended as a new version (each row carrying the computation of
:mod:`costattr_pipeline.lib.computations`), and the day's entry in the table's register of computations
(``<table>_computations``) says which computation is current. Readers read the view ``v_<table>``: each
day's latest computation. ``metering.snowflake_credit_daily`` and ``metering.external_api_costs`` are
such tables; each declares its own rows (with their column comments) in its ``__tables.sql``, and
:class:`VersionedTable` writes the rest from ``versioned_table__register.sql`` and
``versioned_table__append.sql``. The table's, register's and view's names and the figure columns are
written into those templates (the statement's shape); values stay ``:placeholders``, bound by
:func:`costattr_pipeline.lib.sql.bind`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from costattr_pipeline.lib.sql import sql_file

REGISTER_SQL = sql_file(__file__, "versioned_table__register.sql")
APPEND_SQL = sql_file(__file__, "versioned_table__append.sql")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class VersionedTable:
    """An append-only table whose every day is versioned by computation.

    ``table`` is ``schema.name``; ``figures`` the columns of a row in the table's order, ``cost_date`` first
    (the versioned day), without the version columns (computation_id, computed_at, config_hash,
    source_load_ids) that follow them; ``staging`` the work table the run's rows are staged in;
    ``staged_rows`` the query that reads the staged rows as the table holds them, when they are not the
    staging table's own (e.g. converted on the way), in the SQL the append is bound with.
    """

    table: str
    figures: tuple[str, ...]
    staging: str
    staged_rows: str | None = None

    def __post_init__(self) -> None:
        if self.figures[:1] != ("cost_date",):
            raise ValueError(f"{self.table}: a versioned table's first figure is cost_date, not {self.figures[:1]}")
        for name in (*self.table.split("."), *self.staging.split("."), *self.figures):
            if not _NAME.match(name):
                raise ValueError(f"{self.table}: {name!r} is not a plain lower-case SQL name")

    @property
    def register(self) -> str:
        """The register of computations: one row per day and version."""
        return f"{self.table}_computations"

    @property
    def view(self) -> str:
        """The published view: each day's current version."""
        schema, name = self.table.split(".")
        return f"{schema}.v_{name}"

    def tables_sql(self) -> str:
        """The register's DDL and the view (run after the table's own ``__tables.sql``)."""
        return self._render(REGISTER_SQL)

    def append_sql(self) -> str:
        """Append the staged days of ``[:start_date, :end_date)`` that changed as a new version, then empty the
        staging table; bind the window and :meth:`Computation.params`. Run inside the window's transaction."""
        return self._render(APPEND_SQL)

    def _render(self, template: str) -> str:
        staged_rows = f"(\n{self.staged_rows.strip().rstrip(';')}\n)" if self.staged_rows else self.staging
        return template.format(table=self.table, register=self.register, view=self.view, staging=self.staging,
                               staged_rows=staged_rows, figures=", ".join(self.figures))
