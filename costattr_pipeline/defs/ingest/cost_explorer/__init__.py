"""AWS Cost Explorer: daily cost by tenant tag and service, landed append-only."""

from costattr_pipeline.defs.ingest.cost_explorer.assets import build_defs

__all__ = ["build_defs"]
