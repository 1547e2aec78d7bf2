"""The source exports folder as a resource, for the sources read from files in every target."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from costattr_pipeline.lib.source_files import find_table_file, source_folder


class SourceFiles(dg.ConfigurableResource):
    """``<source dir>/<folder>/<name>.csv|.parquet`` (contract section 2)."""

    source_dir: str = Field(description="Source exports folder")

    @property
    def path(self) -> Path:
        return source_folder(self.source_dir)

    def table_file(self, folder: str, name: str) -> Path | None:
        return find_table_file(self.path / folder, name)
