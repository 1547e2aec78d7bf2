"""Resources per target: the same keys, local stand-ins or production services."""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_snowflake import SnowflakeResource

from costattr_pipeline.lib.config import Settings
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerApi, CostExplorerExports
from costattr_pipeline.resources.usage import UsageExports
from costattr_pipeline.resources.warehouse import DuckDBWarehouse, SnowflakeWarehouse
from costattr_pipeline.target import Target


def resources_for(target: Target, settings: Settings) -> dict[str, Any]:
    config = CostattrConfig(config_dir=str(target.config_dir))
    if target.name == "local":
        return {
            "config_files": config,
            "warehouse": DuckDBWarehouse(path=str(target.warehouse), memory_limit=settings.warehouse.memory_limit,
                                         threads=settings.warehouse.threads),
            "cost_explorer": CostExplorerExports(source_dir=str(target.source_dir)),
            "usage_exports": UsageExports(source_dir=str(target.source_dir)),
        }
    snowflake = SnowflakeResource(
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        password=dg.EnvVar("SNOWFLAKE_PASSWORD"),
        role=dg.EnvVar("SNOWFLAKE_ROLE"),
        warehouse=dg.EnvVar("SNOWFLAKE_WAREHOUSE"),
        database=dg.EnvVar("SNOWFLAKE_DATABASE"),
    )
    return {
        "config_files": config,
        "warehouse": SnowflakeWarehouse(snowflake=snowflake),
        "cost_explorer": CostExplorerApi(region_name="us-east-1"),
        # Product metering is exported by the platform itself into the source folder in every target.
        "usage_exports": UsageExports(source_dir=str(target.source_dir)),
    }
