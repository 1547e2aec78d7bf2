"""The production warehouse: Snowflake through dagster-snowflake's resource.

Its own module because importing dagster-snowflake (the connector, snowpark and snowflake.core)
takes about 2 s: only the production target pays for it, not every local command and test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dagster_snowflake import SnowflakeResource
from snowflake.connector.errors import Error as SnowflakeError

from costattr_pipeline.lib.errors import ServiceError, without_secrets

from costattr_pipeline.resources.warehouse import SnowflakeSession, Warehouse, WarehouseSession


class SnowflakeWarehouse(Warehouse):
    """Production: the same SQL, transpiled, runs inside Snowflake where the data lives."""

    snowflake: SnowflakeResource

    @contextlib.contextmanager
    def session(self, wait_seconds: float | None = None) -> Iterator[WarehouseSession]:
        with contextlib.ExitStack() as stack:
            try:
                connection = stack.enter_context(self.snowflake.get_connection())
            except SnowflakeError as error:  # unreachable, or the credentials refused: one line, no secret
                raise ServiceError("Snowflake", self.endpoint, without_secrets(
                    error.msg or str(error), [self.snowflake.password, self.snowflake.private_key_password])
                ) from None
            yield SnowflakeSession(connection)

    @property
    def endpoint(self) -> str:
        """The account's host, as the connector reaches it (no credential)."""
        extra = self.snowflake.additional_snowflake_connection_args or {}
        host = str(extra.get("host") or f"{self.snowflake.account}.snowflakecomputing.com")
        return f"{host}:{extra['port']}" if extra.get("port") else host
