"""Sample unit types (product, environment, customer) and the customers' daily drivers (CUR size)."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costattr_pipeline.sample.generate import DemoPeriod

UNIT_COSTS_YAML = """\
# Unit-cost splits (contract section 3): each day's whole cost split across unit items.
unit_types:
  - {{unit_type: Product, description: Cost per product, effective_from: {start}, effective_to: null,
     items: {{octo: 0.3, ripple: 0.5, wave: 0.2}}}}
  # The environment split changed when staging moved to smaller instances.
  - {{unit_type: Environment, description: Cost per environment, effective_from: {start},
     effective_to: {change}, items: {{prod: 0.7, staging: 0.2, dev: 0.1}}}}
  - {{unit_type: Environment, description: Cost per environment, effective_from: {change},
     effective_to: null, items: {{prod: 0.75, staging: 0.15, dev: 0.1}}}}
  # Customers in proportion to the size of their cost and usage report (usage/unit_drivers).
  - {{unit_type: Customer, description: Cost per customer by CUR size, effective_from: {start},
     effective_to: null, driver: unit_drivers}}
"""
CUR_SIZE_GB = {"acme": 420, "globex": 260, "initech": 150, "umbrella": 230, "wayne": 90}


def generate(source_dir: Path, period: DemoPeriod, rng: random.Random) -> None:
    days = period.days()
    change = days[len(days) // 2]
    config = Path(source_dir) / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "unit_costs.yaml").write_text(UNIT_COSTS_YAML.format(start=period.start, change=change),
                                            encoding="utf-8")
    folder = Path(source_dir) / "usage"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "unit_drivers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "unit_type", "unit_item", "driver_value"])
        for day in days:
            for customer, size in CUR_SIZE_GB.items():
                growth = 1 + (day - period.start).days / 365
                writer.writerow([day.isoformat(), "Customer", customer,
                                 f"{size * growth * rng.uniform(0.95, 1.05):.3f}"])


