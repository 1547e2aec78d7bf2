"""Unattributed AWS cost: the share of each day's cost with no tenant tag, against the threshold."""

from costattr_pipeline.defs.attribution.unattributed.assets import build_defs

__all__ = ["build_defs"]
