"""Delivery of recorded alerts to each configured channel, at least once and never twice.

State lives in ``metering.alerts`` (one row per alert and channel): a channel's row
is created ``pending`` the first time delivery sees the alert, moves to ``sent``
when the channel accepts it, and otherwise keeps its attempts, last error and the
time of the next attempt (exponential backoff across sensor ticks).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from costattr_pipeline.defs.alerts.records import TABLES_SQL
from costattr_pipeline.lib.alert_messages import FIRST_RETRY, next_attempt_after
from costattr_pipeline.resources.alert_channels import DeliveryFailed
from costattr_pipeline.resources.warehouse import WarehouseSession

ADD_CHANNEL_ROWS = """
INSERT INTO metering.alerts
SELECT alert_id, check_name, subject_date, payload, :channel, 'pending', 0, NULL, :now, NULL, :now
FROM (
    SELECT alert_id, MIN(check_name) AS check_name, MIN(subject_date) AS subject_date, MIN(payload) AS payload
    FROM metering.alerts
    GROUP BY alert_id
) AS recorded
WHERE NOT EXISTS (
    SELECT 1 FROM metering.alerts AS existing
    WHERE existing.alert_id = recorded.alert_id AND existing.sent_to = :channel
)
"""

DUE = """
SELECT alert_id, sent_to, payload, attempts
FROM metering.alerts
WHERE status = 'pending' AND sent_to = :channel AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
ORDER BY subject_date, alert_id
"""

MARK = """
UPDATE metering.alerts
SET status = :status, attempts = :attempts, last_error = :last_error, sent_at = :sent_at,
    next_attempt_at = :next_attempt_at
WHERE alert_id = :alert_id AND sent_to = :channel
"""


@dataclass
class DeliveryReport:
    sent: list[tuple[str, str]] = field(default_factory=list)      # (alert_id, channel)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (alert_id, channel, error)
    waiting: int = 0  # pending rows whose next attempt is later

    def summary(self) -> str:
        return (f"{len(self.sent)} delivered, {len(self.failed)} failed (will retry), "
                f"{self.waiting} waiting for their next attempt")


def deliver_pending(session: WarehouseSession, channels: Mapping[str, Callable[[dict[str, Any]], Any]],
                    now: dt.datetime, first_retry: dt.timedelta = FIRST_RETRY) -> DeliveryReport:
    """Deliver every due alert on every channel; record the outcome of each attempt."""
    session.execute(TABLES_SQL)
    report = DeliveryReport()
    for channel, send in channels.items():
        params = {"channel": channel, "now": now}
        session.execute(ADD_CHANNEL_ROWS, params)
        for row in session.rows(DUE, params):
            attempts = int(row["attempts"]) + 1
            try:
                send(json.loads(row["payload"]))
            except DeliveryFailed as error:
                report.failed.append((row["alert_id"], channel, str(error)))
                session.execute(MARK, {"status": "pending", "attempts": attempts, "last_error": str(error)[:1000],
                                       "sent_at": None, "next_attempt_at": next_attempt_after(attempts, now, first_retry),
                                       "alert_id": row["alert_id"], "channel": channel})
                continue
            report.sent.append((row["alert_id"], channel))
            session.execute(MARK, {"status": "sent", "attempts": attempts, "last_error": None, "sent_at": now,
                                   "next_attempt_at": None, "alert_id": row["alert_id"], "channel": channel})
        report.waiting += int(session.scalar(
            "SELECT COUNT(*) FROM metering.alerts WHERE status = 'pending' AND sent_to = :channel "
            "AND next_attempt_at > :now", params) or 0)
    return report
