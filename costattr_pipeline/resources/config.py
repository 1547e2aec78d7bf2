"""The config folder as a resource, so assets read validated settings at run time (never at import)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from costattr_pipeline.lib.config import Settings, load_settings


class CostattrConfig(dg.ConfigurableResource):
    """The YAML config folder (settings.yaml, rate_card.yaml, tenants.yaml, ...)."""

    config_dir: str = Field(description="Folder holding settings.yaml and the other config files")

    @property
    def path(self) -> Path:
        return Path(self.config_dir)

    def settings(self) -> Settings:
        return load_settings(self.path)
