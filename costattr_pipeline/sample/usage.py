"""Sample product metering and billing config: usage events (with retried deliveries), external
API costs, and a rate card and tenants file that exercise the tariff.

The billing config is laid out on the demo period (three whole months M1..M3):
- rate card 2026.1 from M1; 2026.2 starts on the 15th of M2, so it first binds M3;
- acme moves from standard to premium on the 15th of M2 (mid-month tier change);
- globex activates reporting on the 10th of M1 (module activated mid-month);
- acme's api_calls cross two tier bounds; every tenant has external API costs (pass-through).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costattr_pipeline.sample.generate import DemoPeriod

# Average api_calls per day: acme is a heavy user, wayne a light one.
DAILY_CALLS = {"acme": 9000, "globex": 4000, "initech": 1500, "umbrella": 2500, "wayne": 600}
TENANT_MODULES = {"acme": "risk-engine", "globex": "reporting", "initech": "ingestion", "umbrella": "risk-engine",
                  "wayne": "reporting"}
PROVIDERS = {"openai": Decimal("4.20"), "bloomberg": Decimal("11.00")}
EVENTS_PER_DAY = 4
RETRY_SHARE = 0.03  # share of events delivered twice (at-least-once delivery)


def _months(period: DemoPeriod) -> list[dt.date]:
    return sorted({day.replace(day=1) for day in period.days()})


RATE_CARD_YAML = """\
# costattr rate card (contract section 3). The version in force on a period's first day binds the period.
versions:
  - version: "2026.1"
    effective_from: {m1}
    effective_to: {v2_start}
    currency: USD
    customer_levy: {{standard: 15000.00, premium: 35000.00}}
    facility_fee: {{risk-engine: 6000.00, reporting: 2500.00, ingestion: 4000.00}}
    variable:
      api_calls:
        tiers:
          - {{up_to: 100000, unit_price: 0.05}}
          - {{up_to: 200000, unit_price: 0.04}}
          - {{up_to: null, unit_price: 0.03}}
    pass_through_markup_pct: 10
  - version: "2026.2"
    effective_from: {v2_start}
    effective_to: null
    currency: USD
    customer_levy: {{standard: 16000.00, premium: 37000.00}}
    facility_fee: {{risk-engine: 6500.00, reporting: 2700.00, ingestion: 4200.00}}
    variable:
      api_calls:
        tiers:
          - {{up_to: 100000, unit_price: 0.055}}
          - {{up_to: 200000, unit_price: 0.042}}
          - {{up_to: null, unit_price: 0.03}}
    pass_through_markup_pct: 12
"""

TENANTS_YAML = """\
# costattr tenants (contract section 3): tiers with included allowances, dated tier and module histories.
tiers:
  standard: {{included: {{api_calls: 50000}}}}
  premium: {{included: {{api_calls: 150000}}}}
tenants:
  acme:
    tiers:
      - {{tier: standard, effective_from: {m1}, effective_to: {m2_15}}}
      - {{tier: premium, effective_from: {m2_15}, effective_to: null}}
    modules:
      - {{module_id: risk-engine, effective_from: {m1}, effective_to: null}}
      - {{module_id: ingestion, effective_from: {m1}, effective_to: null}}
  globex:
    tiers: [{{tier: standard, effective_from: {m1}, effective_to: null}}]
    modules:
      - {{module_id: reporting, effective_from: {m1_10}, effective_to: null}}
  initech:
    tiers: [{{tier: standard, effective_from: {m1}, effective_to: null}}]
    modules: [{{module_id: ingestion, effective_from: {m1}, effective_to: null}}]
  umbrella:
    tiers: [{{tier: premium, effective_from: {m1}, effective_to: null}}]
    modules:
      - {{module_id: risk-engine, effective_from: {m1}, effective_to: null}}
      - {{module_id: reporting, effective_from: {m1}, effective_to: null}}
  wayne:
    tiers: [{{tier: standard, effective_from: {m1}, effective_to: null}}]
namespaces:                   # Kubernetes namespaces attributed directly (else the pod label tenant_id)
  search: initech
"""


def write_config(config_dir: Path, period: DemoPeriod) -> None:
    """rate_card.yaml and tenants.yaml laid out on the demo period (see the module docstring)."""
    m1, m2 = _months(period)[0], _months(period)[min(1, len(_months(period)) - 1)]
    dates = {"m1": m1, "m1_10": m1.replace(day=10), "m2_15": m2.replace(day=15), "v2_start": m2.replace(day=15)}
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "rate_card.yaml").write_text(RATE_CARD_YAML.format(**dates), encoding="utf-8")
    (config_dir / "tenants.yaml").write_text(TENANTS_YAML.format(**dates), encoding="utf-8")


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    """``usage/usage_events.csv`` (some event ids delivered twice) and ``usage/external_api_costs.csv``."""
    folder = Path(source_dir) / "usage"
    folder.mkdir(parents=True, exist_ok=True)
    events, costs = [], []
    for day in period.days():
        for tenant, calls in DAILY_CALLS.items():
            for number in range(EVENTS_PER_DAY):
                event_id = f"evt-{day:%Y%m%d}-{tenant}-{number}"
                moment = dt.datetime.combine(day, dt.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)))
                quantity = calls * rng.randint(80, 120) // (100 * EVENTS_PER_DAY)
                row = [event_id, tenant, TENANT_MODULES[tenant], "api_calls", quantity, moment.isoformat()]
                events.append(row)
                if rng.random() < RETRY_SHARE:  # the same event delivered again a few seconds later
                    events.append(row[:5] + [(moment + dt.timedelta(seconds=rng.randint(1, 30))).isoformat()])
            for provider, base in PROVIDERS.items():
                amount = base * Decimal(rng.randint(50, 150)) / 100 * Decimal(calls) / 4000
                costs.append([day.isoformat(), tenant, TENANT_MODULES[tenant], provider,
                              str(amount.quantize(Decimal("0.0001"))), "USD"])
        # A monitoring API nobody in particular caused: unattributed.
        costs.append([day.isoformat(), "", "", "pagerduty", "3.5000", "USD"])
        # A translation API billed in euros, converted at the day's rate (settings.yaml fx_to_usd).
        costs.append([day.isoformat(), "globex", TENANT_MODULES["globex"], "deepl",
                      str((Decimal(rng.randint(200, 900)) / 100).quantize(Decimal("0.0001"))), "EUR"])
    with (folder / "usage_events.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["event_id", "tenant_id", "module_id", "metric", "quantity", "event_time"])
        writer.writerows(events)
    with (folder / "external_api_costs.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cost_date", "tenant_id", "module_id", "provider", "amount", "currency"])
        writer.writerows(costs)
