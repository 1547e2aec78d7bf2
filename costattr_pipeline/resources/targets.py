"""Resources per target: the same keys, local stand-ins or production services."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

from costattr_pipeline.lib.config import Settings
from costattr_pipeline.resources.alert_channels import EventBridgeChannelBase, SlackChannel, SlackWebApi
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.cost_explorer import CostExplorerExports
from costattr_pipeline.resources.source_files import SourceFiles
from costattr_pipeline.resources.databricks import DatabricksBillingExports, DatabricksSqlBilling
from costattr_pipeline.resources.reports import ReportFolder
from costattr_pipeline.resources.snowflake_usage import SnowflakeAccountUsage, SnowflakeUsageExports
from costattr_pipeline.resources.usage import UsageExports, UsageTables
from costattr_pipeline.resources.warehouse import DuckDBWarehouse
from costattr_pipeline.target import Target

# What the production target reads from the environment (every secret through EnvVar), by service.
SNOWFLAKE_VARIABLES = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_ROLE",
                       "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_DATABASE")
DATABRICKS_VARIABLES = ("DATABRICKS_SERVER_HOSTNAME", "DATABRICKS_HTTP_PATH", "DATABRICKS_TOKEN")
EVENTBRIDGE_VARIABLES = ("AWS_REGION", "COSTATTR_EVENT_BUS")
SLACK_WEB_API_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_CHANNEL")


def missing_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """The variables the production target needs that are unset or empty (the spec's ENV_MISSING), all at once.

    Slack takes an incoming webhook (SLACK_WEBHOOK_URL) or a bot token and a channel: without the
    webhook, the bot token and channel are named. Names only, never values.
    """
    environ = os.environ if environ is None else environ

    def absent(name: str) -> bool:
        return not (environ.get(name) or "").strip()

    needed = [*SNOWFLAKE_VARIABLES, *DATABRICKS_VARIABLES, *EVENTBRIDGE_VARIABLES]
    if absent("SLACK_WEBHOOK_URL"):
        needed += SLACK_WEB_API_VARIABLES
    return [name for name in needed if absent(name)]


def resources_for(target: Target, settings: Settings) -> dict[str, Any]:
    config = CostattrConfig(config_dir=str(target.config_dir))
    source_files = SourceFiles(source_dir=str(target.source_dir))
    if target.name == "local":
        return {
            "config_files": config,
            "source_files": source_files,
            "warehouse": DuckDBWarehouse(path=str(target.warehouse), memory_limit=settings.warehouse.memory_limit,
                                         threads=settings.warehouse.threads),
            "cost_explorer": CostExplorerExports(source_dir=str(target.source_dir)),
            # No channel locally: breaches go to the log channel (metering.alerts + the run log).
            "eventbridge": EventBridgeChannelBase(enabled=False),
            "slack": SlackChannel(enabled=False),
            "databricks_billing": DatabricksBillingExports(source_dir=str(target.source_dir)),
            "snowflake_usage": SnowflakeUsageExports(source_dir=str(target.source_dir)),
            "usage_source": UsageExports(source_dir=str(target.source_dir)),
            "report_folder": ReportFolder(folder=str(target.reports_dir)),
        }
    # Imported here: dagster-snowflake costs 2 s to import, dagster-aws and botocore 0.7-0.9 s, which only
    # the production target needs.
    from dagster_snowflake import SnowflakeResource

    from costattr_pipeline.resources.cost_explorer_api import CostExplorerApi
    from costattr_pipeline.resources.eventbridge import EventBridgeChannel
    from costattr_pipeline.resources.snowflake_warehouse import SnowflakeWarehouse

    snowflake = SnowflakeResource(
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        password=dg.EnvVar("SNOWFLAKE_PASSWORD"),
        role=dg.EnvVar("SNOWFLAKE_ROLE"),
        warehouse=dg.EnvVar("SNOWFLAKE_WAREHOUSE"),
        database=dg.EnvVar("SNOWFLAKE_DATABASE"),
        additional_snowflake_connection_args=_snowflake_connection_args(),
    )
    return {
        "config_files": config,
        "source_files": source_files,
        "warehouse": SnowflakeWarehouse(snowflake=snowflake),
        "cost_explorer": CostExplorerApi(region_name="us-east-1"),
        "eventbridge": EventBridgeChannel(region_name=dg.EnvVar("AWS_REGION"),
                                          event_bus_name=dg.EnvVar("COSTATTR_EVENT_BUS")),
        "slack": _slack_from_environment(),
        "databricks_billing": DatabricksSqlBilling(server_hostname=dg.EnvVar("DATABRICKS_SERVER_HOSTNAME"),
                                                   http_path=dg.EnvVar("DATABRICKS_HTTP_PATH"),
                                                   access_token=dg.EnvVar("DATABRICKS_TOKEN")),
        "snowflake_usage": SnowflakeAccountUsage(),
        # Product metering is read in place from the product's tables (settings.yaml usage_source).
        "usage_source": UsageTables(usage_events_table=settings.usage_source.usage_events,
                                    external_api_costs_table=settings.usage_source.external_api_costs),
        "report_folder": ReportFolder(folder=str(target.reports_dir)),
    }


# Every session costattr opens is a UTC session: the ACCOUNT_USAGE views hold TIMESTAMP_LTZ values and a
# cost day is a UTC day. Set when connecting (not by ALTER SESSION), so no statement can run before it.
SNOWFLAKE_SESSION_PARAMETERS = {"TIMEZONE": "UTC"}


def _snowflake_connection_args() -> dict[str, Any]:
    """The connection's session parameters, and where the account is reached when it is not
    ``<account>.snowflakecomputing.com``: a PrivateLink host (SNOWFLAKE_HOST), with SNOWFLAKE_PORT and
    SNOWFLAKE_PROTOCOL when they differ from 443 and https."""
    endpoint: dict[str, Any] = {name: os.environ[variable] for name, variable in
                                (("host", "SNOWFLAKE_HOST"), ("port", "SNOWFLAKE_PORT"),
                                 ("protocol", "SNOWFLAKE_PROTOCOL")) if os.environ.get(variable)}
    return {**endpoint, "session_parameters": dict(SNOWFLAKE_SESSION_PARAMETERS)}


def _slack_from_environment() -> SlackChannel:
    """An incoming webhook when SLACK_WEBHOOK_URL is set, else dagster-slack's bot token and a channel (via EnvVar)."""
    ui = dg.EnvVar("DAGSTER_UI_URL") if os.environ.get("DAGSTER_UI_URL") else None
    if os.environ.get("SLACK_WEBHOOK_URL"):
        return SlackChannel(webhook_url=dg.EnvVar("SLACK_WEBHOOK_URL"), ui_base_url=ui)
    return SlackChannel(web_api=SlackWebApi(token=dg.EnvVar("SLACK_BOT_TOKEN")), channel=dg.EnvVar("SLACK_CHANNEL"),
                        ui_base_url=ui)
