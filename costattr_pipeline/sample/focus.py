"""Sample FOCUS 1.2 export: Azure (provider Microsoft) cost per day of each tenant's VMs and storage.

One CSV per billing period under ``focus/``, as Azure Cost Management exports FOCUS. Costs are
quantity x unit price exactly (ListCost = ContractedCost = EffectiveCost = BilledCost: pay as you go),
tags carry the tenant and module, and a shared storage account without tags is the unattributed part.
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

PROVIDER = "Microsoft"
BILLING_ACCOUNT = "ea-8608480"
SUBSCRIPTION = "7f2c6c1e-1d2b-4f0a-9b8e-4d5a3c2b1a01"
TENANT_MODULES = {"acme": "risk-engine", "globex": "reporting", "initech": "ingestion", "umbrella": "risk-engine",
                  "wayne": "reporting"}
# (service, category, subcategory, resource type, SKU, pricing unit, unit price, quantity per day by tenant size)
SERVICES = (
    ("Virtual Machines", "Compute", "Virtual Machines", "Virtual machine", "DZH318Z0BQ4L", "Hours",
     Decimal("0.192"), 48),
    ("Storage", "Storage", "Object Storage", "Storage account", "DZH318Z0BNVX", "GB-Months",
     Decimal("0.0208"), 900),
)
COLUMNS = ("BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingCurrency",
           "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
           "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "ConsumedQuantity", "ConsumedUnit",
           "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
           "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingQuantity", "PricingUnit", "ProviderName",
           "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
           "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuPriceId", "SubAccountId",
           "SubAccountName", "SubAccountType", "Tags", "x_SkuMeterCategory")


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _row(day: dt.date, service: tuple, quantity: Decimal, resource: str, tags: dict[str, str] | None) -> dict[str, str]:
    name, category, subcategory, resource_type, sku, unit, price, _ = service
    cost = str(quantity * price)
    period = day.replace(day=1)
    return {
        "BilledCost": cost, "BillingAccountId": BILLING_ACCOUNT, "BillingAccountName": "Contoso EA",
        "BillingAccountType": "Billing Account", "BillingCurrency": "USD",
        "BillingPeriodEnd": _timestamp(_next_month(period)), "BillingPeriodStart": _timestamp(period),
        "ChargeCategory": "Usage", "ChargeClass": "", "ChargeDescription": f"{name} usage",
        "ChargeFrequency": "Usage-Based", "ChargePeriodEnd": _timestamp(day + dt.timedelta(days=1)),
        "ChargePeriodStart": _timestamp(day), "ConsumedQuantity": str(quantity), "ConsumedUnit": unit,
        "ContractedCost": cost, "ContractedUnitPrice": str(price), "EffectiveCost": cost,
        "InvoiceId": f"G{period:%Y%m}0001", "InvoiceIssuerName": PROVIDER, "ListCost": cost, "ListUnitPrice": str(price),
        "PricingCategory": "Standard", "PricingCurrency": "USD", "PricingQuantity": str(quantity), "PricingUnit": unit,
        "ProviderName": PROVIDER, "PublisherName": PROVIDER, "RegionId": "westeurope", "RegionName": "West Europe",
        "ResourceId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/prod/providers/{resource}",
        "ResourceName": resource.rsplit("/", 1)[-1], "ResourceType": resource_type, "ServiceCategory": category,
        "ServiceName": name, "ServiceSubcategory": subcategory, "SkuId": sku, "SkuPriceId": f"{sku}-payg",
        "SubAccountId": SUBSCRIPTION, "SubAccountName": "prod", "SubAccountType": "Subscription",
        "Tags": json.dumps(tags, sort_keys=True) if tags else "", "x_SkuMeterCategory": name,
    }


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    """One export per billing period of the demo: ``focus/azure-focus-<YYYY-MM>.csv``."""
    folder = Path(source_dir) / "focus"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.csv"):
        stale.unlink()
    by_month: dict[dt.date, list[dict[str, str]]] = {}
    for day in period.days():
        rows = by_month.setdefault(day.replace(day=1), [])
        for weight, (tenant, module) in enumerate(TENANT_MODULES.items(), start=1):
            for service in SERVICES:
                quantity = Decimal(service[7] * (6 - weight) * rng.randint(80, 120)) / 100
                resource = (f"Microsoft.Compute/virtualMachines/vm-{tenant}" if service[0] == "Virtual Machines"
                            else f"Microsoft.Storage/storageAccounts/st{tenant}")
                rows.append(_row(day, service, quantity, resource, {"tenant_id": tenant, "module_id": module}))
        # A shared storage account nobody tagged: about 1 % of the day.
        rows.append(_row(day, SERVICES[1], Decimal(rng.randint(300, 700)) / 10,
                         "Microsoft.Storage/storageAccounts/stsharedlogs", None))
    for month, rows in by_month.items():
        with (folder / f"azure-focus-{month:%Y-%m}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
