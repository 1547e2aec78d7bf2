"""Where costattr reads and writes: the run target, from CLI flags or environment (contract section 1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TARGETS = ("local", "prod")
DEFAULT_SOURCE_DIR = "data/sample"
DEFAULT_WAREHOUSE = ".costattr/warehouse.duckdb"
REPORTS_FOLDER = "reports"  # default: beside the warehouse file


@dataclass(frozen=True)
class Target:
    name: str = "local"
    source_dir: Path = Path(DEFAULT_SOURCE_DIR)
    config_dir: Path = Path(DEFAULT_SOURCE_DIR) / "config"
    warehouse: Path = Path(DEFAULT_WAREHOUSE)
    reports_dir: Path = Path(DEFAULT_WAREHOUSE).parent / REPORTS_FOLDER

    @classmethod
    def from_environment(cls) -> Target:
        """The target the environment names (what Dagster's own processes load)."""
        return cls.resolve()

    @classmethod
    def resolve(cls, name: str | None = None, source_dir: str | None = None, config_dir: str | None = None,
                warehouse: str | None = None, reports_dir: str | None = None) -> Target:
        """Flags win over environment variables, which win over the defaults."""
        name = name or os.environ.get("COSTATTR_TARGET") or "local"
        if name not in TARGETS:
            raise ValueError(f"COSTATTR_TARGET: unknown target {name!r} (expected one of {', '.join(TARGETS)})")
        source = Path(source_dir or os.environ.get("COSTATTR_SOURCE_DIR") or DEFAULT_SOURCE_DIR)
        config = Path(config_dir or os.environ.get("COSTATTR_CONFIG_DIR") or source / "config")
        database = Path(warehouse or os.environ.get("COSTATTR_WAREHOUSE") or DEFAULT_WAREHOUSE)
        reports = Path(reports_dir or os.environ.get("COSTATTR_REPORTS_DIR") or database.parent / REPORTS_FOLDER)
        return cls(name, source.absolute(), config.absolute(), database.absolute(), reports.absolute())
