"""Product metering exports (usage events, external API costs): files under the source folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
from pydantic import Field

from costattr_pipeline.lib.usage_sources import read_external_api_costs, read_usage_events


class UsageExports(dg.ConfigurableResource):
    """``<source dir>/usage/usage_events`` and ``usage/external_api_costs`` (CSV or Parquet).

    Each method returns the validated table (None when the file is absent) and its display name.
    """

    source_dir: str = Field(description="Source exports folder")

    def usage_events(self) -> tuple[pa.Table | None, str]:
        return read_usage_events(Path(self.source_dir))

    def external_api_costs(self) -> tuple[pa.Table | None, str]:
        return read_external_api_costs(Path(self.source_dir))
