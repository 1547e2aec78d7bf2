"""Where the monthly cost reports are written: a folder of this machine, one HTML file per month."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
from pydantic import Field


class ReportFolder(dg.ConfigurableResource):
    """The reports folder (``COSTATTR_REPORTS_DIR``, ``--reports-dir``; default ``reports/`` beside the warehouse)."""

    folder: str = Field(description="Folder the monthly cost reports are written to, as <YYYY-MM>.html")

    def path_for(self, month: dt.date) -> Path:
        return Path(self.folder) / f"{month:%Y-%m}.html"

    def write(self, month: dt.date, page: str) -> Path:
        """Write the month's page whole or not at all: a reader never opens half a report."""
        path = self.path_for(month)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)
        return path
