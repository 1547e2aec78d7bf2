"""Landing a validated product-metering file: its rows replace the run's days, in one transaction."""

from collections.abc import Callable, Mapping

import dagster as dg
import pyarrow as pa

from costattr_pipeline.resources.warehouse import WarehouseSession


def replace_window(session: WarehouseSession, staging: str, rows: pa.Table | None, land_sql: str,
                   params: dict, before: Callable[[], None] | None = None,
                   relations: Mapping[str, str] | None = None,
                   audit: Callable[[], list[dg.AssetCheckResult]] | None = None) -> list[dg.AssetCheckResult]:
    """Stage the validated rows (None: the file is absent) and replace the window's rows from them,
    in one transaction: a failure leaves the landed days as they were. ``before`` runs first in the
    same transaction (e.g. loading the rates the landing SQL joins); ``audit`` runs last, on the
    replaced rows, and returns the blocking checks' results (or raises: nothing is published)."""
    with session.transaction():
        if before is not None:
            before()
        session.execute(f"DELETE FROM {staging}")
        if rows is not None:
            session.insert_arrow(staging, rows)
        session.execute(land_sql, params, relations)
        return audit() if audit is not None else []
