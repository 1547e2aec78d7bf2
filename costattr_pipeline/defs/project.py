"""What every defs module is built from: validated settings and the partitions they imply.

Partitions start at ``partitions_start`` from settings.yaml, so the definitions
are built when Dagster loads the code location (not at import time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from costattr_pipeline.lib.config import Settings

TIMEZONE = "UTC"


@dataclass(frozen=True)
class Project:
    settings: Settings

    @property
    def daily(self) -> dg.DailyPartitionsDefinition:
        """One partition per UTC day; today is included as a provisional partition."""
        return dg.DailyPartitionsDefinition(
            start_date=self.settings.partitions_start.isoformat(), timezone=TIMEZONE, end_offset=1
        )

    @property
    def monthly(self) -> dg.MonthlyPartitionsDefinition:
        """Calendar months; the open billing period has a partition (end_offset=1)."""
        start = self.settings.partitions_start.replace(day=1)
        return dg.MonthlyPartitionsDefinition(start_date=start.isoformat(), timezone=TIMEZONE, end_offset=1)


def window_dates(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The run's half-open day window ``[start, end)``, whole range for a single-run backfill."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()
