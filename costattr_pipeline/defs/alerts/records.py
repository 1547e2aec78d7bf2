"""Recording breaches in ``metering.alerts`` with a deterministic id.

The alert id is a UUID5 of the check name and the day: a re-run, a restatement
or a second evaluation of the same breached day yields the same id, so each
channel delivers it once.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.config import Settings
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.warehouse import WarehouseSession

ALERT_NAMESPACE = uuid.UUID("6f1c2b7e-6d1e-4c43-9d8e-2f6a7c0e9b11")
LOG_CHANNEL = "log"
TABLES_SQL = sql_file(__file__, "alerts__tables.sql")
ALERT_SCHEMA = pa.schema([
    ("alert_id", pa.string()), ("check_name", pa.string()), ("subject_date", pa.date32()),
    ("payload", pa.string()), ("sent_to", pa.string()), ("status", pa.string()), ("attempts", pa.int32()),
    ("last_error", pa.string()), ("created_at", pa.timestamp("us")), ("sent_at", pa.timestamp("us")),
    ("next_attempt_at", pa.timestamp("us"))])


def share_breaches(day_totals: Sequence[Mapping[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """The rows (cost_date, resource_type, total_cost_usd, unattributed_cost_usd) whose unattributed share is
    strictly over the threshold in force that day, as the breaches :func:`record_alerts` records.

    Exact, no division: unattributed / total > threshold <=> unattributed > threshold x total (total > 0).
    """
    breaches = []
    for day in day_totals:
        total, unattributed = Decimal(day["total_cost_usd"]), Decimal(day["unattributed_cost_usd"])
        threshold = settings.threshold_on(day["cost_date"])
        if total > 0 and unattributed > threshold * total:
            breaches.append({"subject_date": day["cost_date"], "cost_date": day["cost_date"],
                             "resource_type": day["resource_type"], "total_cost_usd": total,
                             "unattributed_cost_usd": unattributed,
                             "unattributed_share": (unattributed / total).quantize(Decimal("0.000000000001")),
                             "threshold": threshold})
    return breaches


def alert_id(check_name: str, subject_date: dt.date) -> str:
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{check_name}:{subject_date.isoformat()}"))


def record_alerts(session: WarehouseSession, check_name: str, breaches: Sequence[Mapping[str, Any]],
                  channels: Sequence[str], log: Any) -> list[str]:
    """Insert one row per breach and channel unless it exists; return the new alert ids.

    ``breaches`` carry ``subject_date`` and the payload fields. The ``log`` channel is
    delivered here (written and logged); other channels start ``pending`` for the
    delivery sensor. The caller creates the table (:data:`TABLES_SQL`) before its transaction.
    """
    if not breaches:
        return []
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = []
    for breach in breaches:
        subject_date = breach["subject_date"]
        identifier = alert_id(check_name, subject_date)
        payload = {"alert_id": identifier, "check_name": check_name, **{
            key: (value.isoformat() if isinstance(value, dt.date) else str(value))
            for key, value in breach.items() if key != "subject_date"}}
        for channel in channels:
            delivered_now = channel == LOG_CHANNEL
            rows.append({
                "alert_id": identifier, "check_name": check_name, "subject_date": subject_date,
                "payload": json.dumps(payload, sort_keys=True), "sent_to": channel,
                "status": "sent" if delivered_now else "pending", "attempts": 1 if delivered_now else 0,
                "last_error": None, "created_at": now, "sent_at": now if delivered_now else None,
                "next_attempt_at": None if delivered_now else now,
            })
    existing = {(row["alert_id"], row["sent_to"]) for row in session.rows(
        "SELECT alert_id, sent_to FROM metering.alerts WHERE check_name = :check_name",
        {"check_name": check_name})}
    keep = [index for index, row in enumerate(rows) if (row["alert_id"], row["sent_to"]) not in existing]
    if keep:
        session.insert_arrow("metering.alerts", arrow_tables.from_rows([rows[index] for index in keep], ALERT_SCHEMA))
    new_ids = sorted({rows[index]["alert_id"] for index in keep})
    for index in keep:
        if rows[index]["sent_to"] == LOG_CHANNEL:
            log.warning(f"ALERT {check_name} {rows[index]['subject_date']}: {rows[index]['payload']}")
    return new_ids
