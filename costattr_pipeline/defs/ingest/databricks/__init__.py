"""Databricks billing: usage priced at list price per data product, synced monthly into app.cost_items."""

from costattr_pipeline.defs.ingest.databricks.assets import build_defs

__all__ = ["build_defs"]
