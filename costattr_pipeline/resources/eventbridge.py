"""The production EventBridge channel: boto3's PutEvents, on dagster-aws's boto3 configuration.

Imported only where it is used (the production target, the tests): dagster-aws imports every one of
its integrations, which the local target does not need.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from costattr_pipeline.lib.alert_messages import eventbridge_detail
from costattr_pipeline.resources.alert_channels import DeliveryFailed, EventBridgeChannelBase
from costattr_pipeline.resources.aws import Boto3ClientResource


class EventBridgeChannel(Boto3ClientResource, EventBridgeChannelBase):
    """Publishes each alert as one event on a configurable bus (botocore retries a throttled or 5xx call)."""

    def publish(self, payload: dict[str, Any]) -> str:
        """Put one event; a failed entry in the response is a failure. Returns the event id."""
        detail = eventbridge_detail(payload, trace_id=str(uuid.uuid4()), event_time=dt.datetime.now(dt.timezone.utc))
        try:
            response = self.boto3_client("events").put_events(Entries=[{
                "Source": self.source, "DetailType": self.detail_type, "Detail": json.dumps(detail),
                "EventBusName": self.event_bus_name,
            }])
        except (ClientError, BotoCoreError) as error:
            raise DeliveryFailed(f"PutEvents failed: {error}") from error
        entries = response.get("Entries", [])
        failed = [entry for entry in entries if entry.get("ErrorCode")]
        if response.get("FailedEntryCount", 0) or failed or not entries:
            reason = failed[0] if failed else response
            raise DeliveryFailed(f"PutEvents rejected the event: {reason.get('ErrorCode', '')} "
                                 f"{reason.get('ErrorMessage', '')}".strip())
        return entries[0].get("EventId", "")
