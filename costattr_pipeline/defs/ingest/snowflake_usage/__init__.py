"""Snowflake ACCOUNT_USAGE: landed once per run for the attribution and the reports to read."""

from costattr_pipeline.defs.ingest.snowflake_usage.assets import SNOWFLAKE_ACCOUNT_USAGE, build_defs

__all__ = ["SNOWFLAKE_ACCOUNT_USAGE", "build_defs"]
