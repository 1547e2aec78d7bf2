"""Every day's whole cost per tenant, module and resource type: the base of margins and unit costs."""

from costattr_pipeline.defs.attribution.tenant_summary.assets import build_defs

__all__ = ["build_defs"]
