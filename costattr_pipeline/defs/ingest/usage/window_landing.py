"""Landing a validated product-metering file: its rows replace the run's days, in one transaction."""

import pyarrow as pa

from costattr_pipeline.resources.warehouse import WarehouseSession


def replace_window(session: WarehouseSession, staging: str, rows: pa.Table | None, land_sql: str,
                   params: dict) -> None:
    """Stage the validated rows (None: the file is absent) and replace the window's rows from them,
    in one transaction: a failure leaves the landed days as they were."""
    with session.transaction():
        session.execute(f"DELETE FROM {staging}")
        if rows is not None:
            session.insert_arrow(staging, rows)
        session.execute(land_sql, params)
