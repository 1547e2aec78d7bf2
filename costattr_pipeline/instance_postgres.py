"""dagster-postgres's event storage, writing a run's planned events in one statement too.

``PostgresEventLogStorage.store_event_batch`` inserts a step's per-partition materializations in one
statement but writes any other batch event by event; the planned events of a yearly backfill (one per
asset and partition, about 4,000, handed over as batches when the run is created) then cost a round trip
and an index transaction each. This storage inserts them as Dagster does the materializations: one
``INSERT ... RETURNING`` of the rows, then the asset index in one transaction, each asset's latest event
once. ``docs/deploy/dagster.yaml`` names it; a separate module so that local commands never import
dagster-postgres.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster._core.events.log import EventLogEntry
from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from costattr_pipeline.instance import _BatchedWrites, _inserted_ids


class BatchedPostgresEventLogStorage(_BatchedWrites, PostgresEventLogStorage):
    """PostgreSQL event storage (dagster-postgres) whose planned-event batches are one insert."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, postgres_url=pg_url_from_config(config_value),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   token_provider=get_token_provider_from_config(config_value))

    def _store_asset_batch(self, events: Sequence[EventLogEntry]) -> None:
        rows = [self._event_to_row(event) for event in events]
        with self._connect() as conn:  # run log and index are one table here
            event_ids = _inserted_ids(conn, rows)
        with self.index_transaction() as conn:
            self._index_batch(conn, events, event_ids)
