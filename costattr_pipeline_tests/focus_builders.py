"""FOCUS files for tests: rows with the mandatory columns filled, written as CSV or Parquet."""

from __future__ import annotations

import csv
import json
import os
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# FOCUS 1.2's mandatory columns and the ones costattr reads, in a usable order.
COLUMNS_1_2 = ("BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
               "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription",
               "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "InvoiceIssuerName", "ProviderName",
               "PublisherName", "PricingQuantity", "PricingUnit", "ServiceCategory", "ServiceName", "SubAccountId",
               "ResourceId", "InvoiceId", "Tags")


def charge(day: str, cost: str, tags: Mapping[str, str] | None = None, *, provider: str = "AWS",
           account: str = "100000000001", billed: str | None = None, **columns: str) -> dict[str, str]:
    """One daily usage charge of ``day`` (YYYY-MM-DD) costing ``cost`` (EffectiveCost; BilledCost = ``billed`` or the same)."""
    start = dt.date.fromisoformat(day)
    period = start.replace(day=1)
    period_end = (period + dt.timedelta(days=32)).replace(day=1)
    row = {
        "BillingAccountId": account, "BillingAccountName": f"{provider} billing", "BillingCurrency": "USD",
        "BillingPeriodStart": f"{period}T00:00:00Z", "BillingPeriodEnd": f"{period_end}T00:00:00Z",
        "ChargePeriodStart": f"{start}T00:00:00Z", "ChargePeriodEnd": f"{start + dt.timedelta(days=1)}T00:00:00Z",
        "ChargeCategory": "Usage", "ChargeClass": "", "ChargeDescription": "compute",
        "BilledCost": billed if billed is not None else cost, "EffectiveCost": cost, "ListCost": cost,
        "ContractedCost": cost, "InvoiceIssuerName": provider, "ProviderName": provider, "PublisherName": provider,
        "PricingQuantity": "1", "PricingUnit": "Hours", "ServiceCategory": "Compute", "ServiceName": "Compute",
        "SubAccountId": "200000000001", "ResourceId": "vm-1", "InvoiceId": "INV-1",
        "Tags": json.dumps(dict(tags)) if tags is not None else "",
    }
    row.update(columns)
    return row


def write_focus_csv(path: Path, rows: Sequence[Mapping[str, str]], columns: Sequence[str] | None = None,
                    mtime: dt.datetime | None = None) -> Path:
    """Rows as a FOCUS CSV (columns: every key of the rows, in order of first appearance)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(columns or dict.fromkeys(name for row in rows for name in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def write_focus_parquet(path: Path, rows: Sequence[Mapping[str, str]], mtime: dt.datetime | None = None) -> Path:
    """Rows as a FOCUS Parquet file (every column text, as typed exports write account ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(name for row in rows for name in row))
    pq.write_table(pa.table({name: pa.array([row.get(name) or None for row in rows], pa.string())
                             for name in names}), path)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def at(text: str) -> dt.datetime:
    """A file modification time (UTC)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
