"""Sample Cost Explorer fetches: one per month, split into pages, plus a restatement.

Untagged spend (shared networking, a forgotten bucket) is normally around 1 %
of the day; a few incident days push it over the 2 % threshold.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from costattr_pipeline.sample.generate import DemoPeriod

SERVICES = {
    "Amazon Elastic Compute Cloud - Compute": Decimal("180"),
    "Amazon Simple Storage Service": Decimal("40"),
    "Amazon Relational Database Service": Decimal("95"),
    "AWS Lambda": Decimal("12"),
    "Amazon CloudWatch": Decimal("6"),
}
TENANT_WEIGHTS = {"acme": Decimal("1.6"), "globex": Decimal("1.0"), "initech": Decimal("0.6"),
                  "umbrella": Decimal("0.9"), "wayne": Decimal("0.4")}
PAGE_SIZE = 20
GROUP_DEFINITIONS = [{"Type": "TAG", "Key": "tenant_id"}, {"Type": "DIMENSION", "Key": "SERVICE"}]


def _amount(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.0000000001")))


def _day_groups(day: dt.date, rng: random.Random, breach: bool) -> list[dict[str, Any]]:
    groups = []
    tagged = Decimal(0)
    for tenant, weight in TENANT_WEIGHTS.items():
        for service, base in SERVICES.items():
            noise = Decimal(rng.randint(850, 1150)) / 1000
            amount = base * weight * noise
            tagged += amount
            groups.append({"Keys": [f"tenant_id${tenant}", service],
                           "Metrics": {"UnblendedCost": {"Amount": _amount(amount), "Unit": "USD"}}})
    untagged_share = Decimal(rng.randint(30, 50)) / 1000 if breach else Decimal(rng.randint(4, 15)) / 1000
    untagged = tagged * untagged_share / (1 - untagged_share)
    for service, part in (("Amazon Virtual Private Cloud", Decimal("0.7")), ("Amazon Simple Storage Service",
                                                                             Decimal("0.3"))):
        groups.append({"Keys": ["tenant_id$", service],
                       "Metrics": {"UnblendedCost": {"Amount": _amount(untagged * part), "Unit": "USD"}}})
    return groups


def _pages(days: list[dt.date], groups_by_day: dict[dt.date, list[dict[str, Any]]], estimated_from: dt.date
           ) -> list[dict[str, Any]]:
    """Split a fetch into pages of PAGE_SIZE groups; a day's groups may span two pages."""
    flat = [(day, group) for day in days for group in groups_by_day[day]]
    pages = []
    for offset in range(0, len(flat), PAGE_SIZE):
        chunk = flat[offset:offset + PAGE_SIZE]
        results = []
        for day in dict.fromkeys(day for day, _ in chunk):
            results.append({
                "TimePeriod": {"Start": day.isoformat(), "End": (day + dt.timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [group for group_day, group in chunk if group_day == day],
                "Estimated": day >= estimated_from,
            })
        page: dict[str, Any] = {"GroupDefinitions": GROUP_DEFINITIONS, "ResultsByTime": results,
                                "DimensionValueAttributes": []}
        if offset + PAGE_SIZE < len(flat):
            page["NextPageToken"] = f"page-{offset // PAGE_SIZE + 2}"
        pages.append(page)
    return pages


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    folder = Path(source_dir) / "aws_cost_explorer"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    days = period.days()
    breach_days = set(rng.sample(days, k=min(4, len(days))))
    groups = {day: _day_groups(day, rng, day in breach_days) for day in days}

    months: dict[dt.date, list[dt.date]] = {}
    for day in days:
        months.setdefault(day.replace(day=1), []).append(day)
    for month_days in months.values():
        fetched = month_days[-1] + dt.timedelta(days=1)
        pages = _pages(month_days, groups, estimated_from=month_days[-1] - dt.timedelta(days=1))
        (folder / f"fetch-{fetched.isoformat()}.json").write_text(json.dumps(pages, indent=1), encoding="utf-8")

    # Two days later Cost Explorer restates the last two days with final figures.
    restated = days[-2:]
    for day in restated:
        groups[day] = [{**group, "Metrics": {"UnblendedCost": {
            "Amount": _amount(Decimal(group["Metrics"]["UnblendedCost"]["Amount"]) * Decimal("1.03")),
            "Unit": "USD"}}} for group in groups[day]]
    fetched = days[-1] + dt.timedelta(days=3)
    (folder / f"fetch-{fetched.isoformat()}.json").write_text(
        json.dumps(_pages(restated, groups, estimated_from=fetched), indent=1), encoding="utf-8")
