"""Landing validated product metering (a file's or a table's rows): they replace the run's days, in one transaction."""

from collections.abc import Callable, Mapping

import dagster as dg

from costattr_pipeline.resources.usage import UsageRows
from costattr_pipeline.resources.warehouse import WarehouseSession


def replace_window(session: WarehouseSession, staging: str, rows: UsageRows, land_sql: str,
                   params: dict, before: Callable[[], None] | None = None,
                   relations: Mapping[str, str] | None = None,
                   audit: Callable[[], list[dg.AssetCheckResult]] | None = None) -> list[dg.AssetCheckResult]:
    """Stage the validated rows (none when the source is absent) and replace the window's rows from them,
    in one transaction: a failure leaves the landed days as they were. ``before`` runs first in the
    same transaction (e.g. loading the rates the landing SQL joins); ``audit`` runs last, on the
    replaced rows, and returns the blocking checks' results (or raises: nothing is published)."""
    with session.transaction():
        if before is not None:
            before()
        session.execute(f"DELETE FROM {staging}")
        rows.stage(session, staging)
        session.execute(land_sql, params, relations)
        return audit() if audit is not None else []
