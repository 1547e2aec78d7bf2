"""The production warehouse: Snowflake through dagster-snowflake's resource.

Its own module because importing dagster-snowflake (the connector, snowpark and snowflake.core)
takes about 2 s: only the production target pays for it, not every local command and test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dagster_snowflake import SnowflakeResource

from costattr_pipeline.resources.warehouse import SnowflakeSession, Warehouse, WarehouseSession


class SnowflakeWarehouse(Warehouse):
    """Production: the same SQL, transpiled, runs inside Snowflake where the data lives."""

    snowflake: SnowflakeResource

    @contextlib.contextmanager
    def session(self, wait_seconds: float | None = None) -> Iterator[WarehouseSession]:
        with self.snowflake.get_connection() as connection:
            yield SnowflakeSession(connection)
