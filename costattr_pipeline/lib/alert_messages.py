"""What an alert says on each channel, and when a failed delivery is tried again.

Pure functions over the payload recorded in ``metering.alerts`` (JSON text with
exact decimal strings), so the wording and the EventBridge detail are tested
without any service.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from costattr_pipeline.lib.money import round_cents

EVENTBRIDGE_DETAIL_FIELDS = ("trace_id", "alert_id", "cost_date", "total_aws_cost_usd", "unattributed_cost_usd",
                             "unattributed_share", "threshold", "event_time")
FOCUS_EVENTBRIDGE_DETAIL_FIELDS = ("trace_id", "alert_id", "cost_date", "resource_type", "total_cost_usd",
                                   "unattributed_cost_usd", "unattributed_share", "threshold", "event_time")
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=1)


def eventbridge_detail(payload: dict[str, Any], trace_id: str, event_time: dt.datetime) -> dict[str, str]:
    """The event detail, exactly the contract's fields; amounts stay exact decimal strings.

    An alert on FOCUS cost (its payload names a ``resource_type``) says which provider's cost it is
    about and carries ``total_cost_usd`` in place of ``total_aws_cost_usd``.
    """
    focus = "resource_type" in payload
    detail = {
        "trace_id": trace_id,
        "alert_id": payload["alert_id"],
        "cost_date": payload["cost_date"],
        **({"resource_type": payload["resource_type"], "total_cost_usd": payload["total_cost_usd"]} if focus
           else {"total_aws_cost_usd": payload["total_aws_cost_usd"]}),
        "unattributed_cost_usd": payload["unattributed_cost_usd"],
        "unattributed_share": payload["unattributed_share"],
        "threshold": payload["threshold"],
        "event_time": event_time.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
    }
    assert tuple(detail) == (FOCUS_EVENTBRIDGE_DETAIL_FIELDS if focus else EVENTBRIDGE_DETAIL_FIELDS)
    return detail


def _percent(share: str) -> str:
    return f"{(Decimal(share) * 100).quantize(Decimal('0.01'))} %"


def _dollars(amount: str) -> str:
    return f"${round_cents(Decimal(amount)):,}"


def slack_text(payload: dict[str, Any], ui_base_url: str | None = None) -> str:
    """A short message a person reads in a channel: day, share, threshold, amounts, a link."""
    focus = "resource_type" in payload
    what = f"{payload['resource_type']} (FOCUS)" if focus else "AWS"
    total = payload["total_cost_usd"] if focus else payload["total_aws_cost_usd"]
    text = (f":rotating_light: Unattributed {what} cost on {payload['cost_date']} is "
            f"{_percent(payload['unattributed_share'])} of {_dollars(total)} "
            f"(threshold {_percent(payload['threshold'])}): {_dollars(payload['unattributed_cost_usd'])} "
            f"has no tenant tag.")
    if ui_base_url:
        asset = "metering/focus_cost_daily" if focus else "metering/unattributed_costs"
        text += f" <{ui_base_url.rstrip('/')}/assets/{asset}|Open in Dagster>"
    return text


def next_attempt_after(failed_attempts: int, now: dt.datetime, first_retry: dt.timedelta = FIRST_RETRY
                       ) -> dt.datetime:
    """Exponential backoff across sensor ticks: 1, 2, 4 ... minutes by default, at most an hour."""
    delay = min(first_retry * (2 ** max(failed_attempts - 1, 0)), LONGEST_RETRY)
    return now + delay
