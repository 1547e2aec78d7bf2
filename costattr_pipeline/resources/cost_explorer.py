"""Cost Explorer readers: local export files here, or the live GetCostAndUsage API (``cost_explorer_api.py``).

Both hand the landing asset a list of :class:`Fetch` files; the API reader
writes each call's pages to a JSON file first, so one parser serves both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
from pydantic import Field

from costattr_pipeline.lib.config import AwsSettings
from costattr_pipeline.lib.cost_explorer import Fetch
from costattr_pipeline.lib.source_files import source_folder


class CostExplorerError(RuntimeError):
    """The API refused (``COST_EXPLORER_4XX``) or stayed unavailable (``COST_EXPLORER_UNAVAILABLE``)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")


class CostExplorerSource(dg.ConfigurableResource):
    """Where Cost Explorer fetches come from."""

    def fetches(self, start: dt.date, end: dt.date, aws: AwsSettings, log: Any) -> list[Fetch]:
        raise NotImplementedError


class CostExplorerExports(CostExplorerSource):
    """Local target: ``<source dir>/aws_cost_explorer/*.json``, read in lexicographic order of file name."""

    source_dir: str = Field(description="Source exports folder")

    def fetches(self, start: dt.date, end: dt.date, aws: AwsSettings, log: Any) -> list[Fetch]:
        folder = source_folder(self.source_dir) / "aws_cost_explorer"
        if not folder.is_dir():
            return []
        return [Fetch(source_name=path.name, path=path) for path in sorted(folder.glob("*.json"))]
