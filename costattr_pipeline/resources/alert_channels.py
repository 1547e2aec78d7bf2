"""Alert channels: AWS EventBridge (its boto3 client in ``eventbridge.py``) and Slack (dagster-slack).

Each channel raises :class:`DeliveryFailed` when a message did not get through,
so the delivery sensor can keep the alert pending and try again later.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from costattr_pipeline.lib.alert_messages import slack_text


class DeliveryFailed(RuntimeError):
    """The channel did not accept the message; the alert stays pending."""


class EventBridgeChannelBase(dg.ConfigurableResource):
    """What the alert sensor needs of an EventBridge channel: where events go, and :meth:`publish`.

    This base publishes nothing: the local target's channel is off (``enabled=False``; breaches go to
    the log channel). Production's :class:`~costattr_pipeline.resources.eventbridge.EventBridgeChannel`
    publishes through boto3, built on dagster-aws's boto3 configuration. It lives in its own module so
    that loading the definitions for the local target does not import dagster-aws and botocore
    (0.7-0.9 s of every process: every ``costattr`` command, test worker and code server).
    """

    enabled: bool = Field(default=True, description="False: this channel is not configured")
    event_bus_name: str = Field(default="default")
    source: str = Field(default="bank.risk-platform")
    detail_type: str = Field(default="unattributed_cost_threshold_exceeded")

    def publish(self, payload: dict[str, Any]) -> str:
        """Put one event; returns its id. Here: no client, so nothing can be delivered."""
        raise DeliveryFailed("no EventBridge client on this target (costattr_pipeline.resources.eventbridge)")


class SlackWebApi(SlackResource):
    """dagster-slack's resource (a bot token), with the Web API base URL configurable.

    dagster-slack's client always talks to slack.com; the base URL lets the same resource
    reach a local stand-in in tests, or a proxy in front of Slack.
    """

    base_url: str = Field(default=WebClient.BASE_URL, description="Slack Web API base URL")

    def get_client(self) -> WebClient:
        return WebClient(token=self.token, base_url=self.base_url, timeout=10)


class SlackChannel(dg.ConfigurableResource):
    """Posts alerts and failed runs to Slack: chat.postMessage through dagster-slack, or an incoming webhook.

    A webhook needs no app in the workspace, hence both; when both are set the webhook is used.
    """

    enabled: bool = Field(default=True, description="False: this channel is not configured")
    web_api: SlackWebApi | None = Field(default=None, description="Bot token (use EnvVar) for chat.postMessage")
    channel: str | None = Field(default=None, description="Channel for chat.postMessage")
    webhook_url: str | None = Field(default=None, description="Incoming webhook URL (use EnvVar)")
    ui_base_url: str | None = Field(default=None, description="Dagster UI base URL for links")

    def post(self, text: str) -> None:
        # The webhook URL is itself a secret: errors name the kind of endpoint, never that URL.
        where = "Slack incoming webhook" if self.webhook_url else "Slack Web API"
        try:
            if self.webhook_url:
                response = WebhookClient(self.webhook_url, timeout=10).send(text=text)
                if response.status_code != 200:
                    raise DeliveryFailed(f"{where} answered {response.status_code}: {response.body}")
                return
            if not (self.web_api and self.channel):
                raise DeliveryFailed("Slack needs either webhook_url, or web_api (a bot token) and channel")
            where = f"Slack Web API at {self.web_api.base_url}"
            self.web_api.get_client().chat_postMessage(channel=self.channel, text=text)
        except SlackApiError as error:
            raise DeliveryFailed(f"{where} answered chat.postMessage with HTTP {error.response.status_code}: "
                                 f"{error.response.get('error') or error}") from error
        except SlackClientError as error:
            raise DeliveryFailed(f"{where}: request failed: {error}") from error
        except OSError as error:  # connection refused, timeouts, DNS
            raise DeliveryFailed(f"{where} unreachable: {error}") from error

    def post_alert(self, payload: dict[str, Any]) -> None:
        self.post(slack_text(payload, self.ui_base_url))
