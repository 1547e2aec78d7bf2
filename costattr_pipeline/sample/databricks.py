"""Sample Databricks system table exports: ``databricks/usage.csv`` and ``databricks/list_prices.csv``.

Each demo tenant runs one data product's jobs and SQL on one AWS workspace; a shared
exploration cluster is left untagged (about 1-2 % of the cost). The jobs SKU's list price
rises on the 1st of the period's second month, the all-purpose SKU carries an effective
(discounted) list price in euros (converted at the day's rate), and a few records are retracted and
restated, as Databricks does.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costattr_pipeline.sample.generate import DemoPeriod

ACCOUNT_ID = "8a3f2c71-5d0e-4b8e-9c1a-6f2e0d4b7a10"
CLOUD = "AWS"
PRODUCTS = {  # data product -> (tenant, workspace, daily DBU scale)
    "customer-360": ("acme", "1234567890123456", Decimal("1.6")),
    "risk-features": ("globex", "1234567890123456", Decimal("1.0")),
    "fraud-scores": ("initech", "2345678901234567", Decimal("0.6")),
    "reporting-mart": ("umbrella", "2345678901234567", Decimal("0.9")),
    "ml-platform": ("wayne", "3456789012345678", Decimal("0.4")),
}
SKUS = {  # SKU -> DBUs per day at scale 1
    "ENTERPRISE_JOBS_COMPUTE": Decimal("120"),
    "ENTERPRISE_SQL_PRO_COMPUTE_US_EAST_N_VIRGINIA": Decimal("40"),
    "ENTERPRISE_ALL_PURPOSE_COMPUTE": Decimal("25"),
}
USAGE_HEADER = ["record_id", "account_id", "workspace_id", "sku_name", "cloud", "usage_start_time", "usage_end_time",
                "usage_date", "usage_unit", "usage_quantity", "custom_tags", "usage_metadata", "record_type"]
PRICE_HEADER = ["price_start_time", "price_end_time", "account_id", "sku_name", "cloud", "currency_code",
                "usage_unit", "pricing"]


def _pricing(default: str, effective: str | None = None) -> str:
    """Databricks' pricing struct as JSON; without ``effective`` the unit price falls back to ``default``."""
    pricing: dict[str, object] = {"default": default, "promotional": {"default": default}}
    if effective is not None:
        pricing["effective_list"] = {"default": effective}
    return json.dumps(pricing)


def _list_prices(period: DemoPeriod) -> list[list[str]]:
    opened = "2023-01-01T00:00:00Z"
    change = dt.datetime.combine(_second_month(period), dt.time()).isoformat() + "Z"
    rows = [
        [opened, change, ACCOUNT_ID, "ENTERPRISE_JOBS_COMPUTE", CLOUD, "USD", "DBU", _pricing("0.20", "0.20")],
        [change, "", ACCOUNT_ID, "ENTERPRISE_JOBS_COMPUTE", CLOUD, "USD", "DBU", _pricing("0.22", "0.22")],
        [opened, "", ACCOUNT_ID, "ENTERPRISE_SQL_PRO_COMPUTE_US_EAST_N_VIRGINIA", CLOUD, "USD", "DBU",
         _pricing("0.55")],
        # Negotiated in euros: converted to USD at the rate of the usage day (settings.yaml fx_to_usd).
        [opened, "", ACCOUNT_ID, "ENTERPRISE_ALL_PURPOSE_COMPUTE", CLOUD, "EUR", "DBU", _pricing("0.60", "0.54")],
        # The same SKU on another cloud, which the AWS usage must not pick up.
        [opened, "", ACCOUNT_ID, "ENTERPRISE_JOBS_COMPUTE", "AZURE", "USD", "DBU", _pricing("0.30")],
    ]
    return rows


def _second_month(period: DemoPeriod) -> dt.date:
    return (period.start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _record(record_id: str, workspace: str, sku: str, start: dt.datetime, hours: int, quantity: Decimal,
            tags: dict[str, str], record_type: str, metadata: dict[str, str | None]) -> list[str]:
    end = start + dt.timedelta(hours=hours)
    return [record_id, ACCOUNT_ID, workspace, sku, CLOUD, start.isoformat() + "Z", end.isoformat() + "Z",
            start.date().isoformat(), "DBU", str(quantity), json.dumps(tags, sort_keys=True),
            json.dumps(metadata, sort_keys=True), record_type]


def _usage(period: DemoPeriod, rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    sequence = 0
    for day in period.days():
        midnight = dt.datetime.combine(day, dt.time())
        for product, (tenant, workspace, scale) in PRODUCTS.items():
            for index, (sku, dbus) in enumerate(SKUS.items()):
                sequence += 1
                quantity = (dbus * scale * Decimal(rng.randint(800, 1200)) / 1000).quantize(Decimal("0.000001"))
                start = midnight + dt.timedelta(hours=2 + 6 * index)
                rows.append(_record(f"rec-{sequence:07d}", workspace, sku, start, 6, quantity,
                                    {"data_product_id": product, "tenant_id": tenant, "team": "data"},
                                    "ORIGINAL", {"job_id": f"job-{product}-{index}", "warehouse_id": None}))
        # A shared exploration cluster nobody tagged with a data product.
        sequence += 1
        quantity = (Decimal(rng.randint(1500, 3500)) / 1000).quantize(Decimal("0.000001"))
        rows.append(_record(f"rec-{sequence:07d}", "1234567890123456", "ENTERPRISE_ALL_PURPOSE_COMPUTE",
                            midnight + dt.timedelta(hours=9), 8, quantity, {"team": "exploration"}, "ORIGINAL",
                            {"cluster_id": "0101-shared-explore", "job_id": None}))

    # Databricks corrects a record by retracting it (same record, negative quantity) and restating it.
    for original in rng.sample(rows, k=min(6, len(rows))):
        sequence += 1
        retraction = list(original)
        retraction[0], retraction[9], retraction[12] = f"rec-{sequence:07d}", f"-{original[9]}", "RETRACTION"
        sequence += 1
        restated = list(original)
        corrected = (Decimal(original[9]) * Decimal("0.9")).quantize(Decimal("0.000001"))
        restated[0], restated[9], restated[12] = f"rec-{sequence:07d}", str(corrected), "RESTATEMENT"
        rows += [retraction, restated]
    return rows


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    folder = Path(source_dir) / "databricks"
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("usage.csv", USAGE_HEADER, _usage(period, rng)),
                               ("list_prices.csv", PRICE_HEADER, _list_prices(period))):
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
