"""Product metering exports (usage events, external API costs): files under the source folder."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pyarrow as pa
from pydantic import Field

from costattr_pipeline.lib.usage_sources import read_external_api_costs, read_usage_events
from costattr_pipeline.lib.source_files import source_folder


class UsageExports(dg.ConfigurableResource):
    """``<source dir>/usage/usage_events`` and ``usage/external_api_costs`` (CSV or Parquet).

    Each method returns the validated rows of a run's days (None when the file is absent) and the file's
    display name: a run validates what it computes, not the file's whole history.
    """

    source_dir: str = Field(description="Source exports folder")

    def usage_events(self, start: dt.date, end: dt.date) -> tuple[pa.Table | None, str]:
        """The events of ``[start, end)`` (by event_time), validated."""
        return read_usage_events(source_folder(self.source_dir), (start, end))

    def external_api_costs(self, start: dt.date, end: dt.date) -> tuple[pa.Table | None, str]:
        """The costs of ``[start, end)`` (by cost_date), validated."""
        return read_external_api_costs(source_folder(self.source_dir), (start, end))
