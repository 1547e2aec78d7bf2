"""Product metering: usage events (deduplicated by event_id) and external API costs."""

from costattr_pipeline.defs.ingest.usage.assets import build_defs

__all__ = ["build_defs"]
