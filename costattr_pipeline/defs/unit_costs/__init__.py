"""Unit-cost splits: each day's whole cost across products, environments, customers; and tag strings."""

from costattr_pipeline.defs.unit_costs.assets import build_defs

__all__ = ["build_defs"]
