"""Entry point of the sample generator: the period, the config folder, every source."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from costattr_pipeline.sample import cost_explorer, databricks, focus, kubernetes, snowflake, unit_costs, usage

TENANTS = ("acme", "globex", "initech", "umbrella", "wayne")
MODULES = ("risk-engine", "reporting", "ingestion")


@dataclass(frozen=True)
class DemoPeriod:
    """The sample's days, ``[start, end)``, whole calendar months."""

    start: dt.date
    end: dt.date

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=offset) for offset in range((self.end - self.start).days)]


def default_period(today: dt.date | None = None, months: int = 3) -> DemoPeriod:
    """The ``months`` full calendar months before the current one."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    end = today.replace(day=1)
    start = end
    for _ in range(months):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return DemoPeriod(start, end)


SETTINGS_YAML = """\
# {title} (contract section 3). Dated entries are half-open [effective_from, effective_to).
partitions_start: {start}
unattributed_threshold:
  - {{effective_from: {start}, effective_to: null, value: 0.02}}
aws: {{tenant_tag: tenant_id, module_tag: module_id}}
snowflake:
  tenant_tag: TENANT_ID
  tag_database: COST_MANAGEMENT   # only this database's and schema's tenant tag counts
  tag_schema: TAGS
  idle_policy: proportional
  credit_price_usd:
    - {{effective_from: {start}, effective_to: null, price: 3.00}}
    - {{effective_from: {start}, effective_to: null, price: 2.50, warehouse: {dedicated_warehouse}}}
fx_to_usd:                        # amounts in other currencies, at the rate of their day
  - {{currency: EUR, effective_from: {start}, effective_to: {fx_change}, rate: 1.0812}}
  - {{currency: EUR, effective_from: {fx_change}, effective_to: null, rate: 1.1043}}
databricks: {{product_tag: data_product_id, tenant_tag: tenant_id}}
unit_costs: {{category_prefix: costattr}}
focus: {{tenant_tag: tenant_id, module_tag: module_id, cost_column: EffectiveCost}}
"""


def settings_yaml(start: dt.date, dedicated_warehouse: str = "WH_ACME", title: str = "costattr settings",
                  memory_limit: str | None = None, threads: int | None = None) -> str:
    """settings.yaml of a generated data set (demo or benchmark); DuckDB limits when given."""
    fx_change = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)  # the second month
    text = SETTINGS_YAML.format(title=title, start=start, dedicated_warehouse=dedicated_warehouse, fx_change=fx_change)
    if memory_limit or threads:
        text += f"warehouse: {{memory_limit: {memory_limit}, threads: {threads}}}\n"
    return text


def write_config(config_dir: Path, period: DemoPeriod) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.yaml").write_text(settings_yaml(period.start), encoding="utf-8")


def generate_sample(source_dir: Path, period: DemoPeriod | None = None, seed: int = 7) -> DemoPeriod:
    """Write the sample sources and config under ``source_dir``; return the period they cover."""
    period = period or default_period()
    source_dir = Path(source_dir)
    rng = random.Random(seed)
    write_config(source_dir / "config", period)
    cost_explorer.generate(source_dir, period, rng)
    databricks.generate(source_dir, period, rng)
    unit_costs.generate(source_dir, period, rng)
    snowflake.generate(source_dir, period, rng)
    usage.write_config(source_dir / "config", period)
    usage.generate(source_dir, period, rng)
    focus.generate(source_dir, period, rng)
    kubernetes.generate(source_dir, period, rng)
    return period
