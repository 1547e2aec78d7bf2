"""``settings.yaml``: typed, validated, with dated histories.

The shape is fixed by the contract (section 3). Validation happens before any
asset writes, and every error names the file, the entry and the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from costattr_pipeline.lib.dated import Dated, Window, fill_gaps, find_overlap, in_force
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.yaml_loading import load_yaml

SETTINGS_FILE = "settings.yaml"
DEFAULT_PARTITIONS_START = dt.date(2024, 1, 1)
DEFAULT_UNATTRIBUTED_THRESHOLD = Decimal("0.02")
IDLE_POLICIES = ("proportional", "separate")


@dataclass(frozen=True)
class AwsSettings:
    tenant_tag: str = "tenant_id"
    module_tag: str = "module_id"
    metric: str = "UnblendedCost"


@dataclass(frozen=True)
class CreditPrice:
    price: Decimal
    warehouse: str | None = None


@dataclass(frozen=True)
class SnowflakeSettings:
    tenant_tag: str = "TENANT_ID"
    idle_policy: str = "proportional"
    credit_price_usd: tuple[Dated[CreditPrice], ...] = ()


@dataclass(frozen=True)
class DatabricksSettings:
    product_tag: str = "data_product_id"
    tenant_tag: str = "tenant_id"


@dataclass(frozen=True)
class UnitCostSettings:
    category_prefix: str = "costattr"


@dataclass(frozen=True)
class WarehouseSettings:
    """DuckDB resource limits, so a large backfill stays within the machine."""

    memory_limit: str | None = None
    threads: int | None = None


@dataclass(frozen=True)
class Settings:
    partitions_start: dt.date = DEFAULT_PARTITIONS_START
    unattributed_threshold: tuple[Dated[Decimal], ...] = ()
    aws: AwsSettings = field(default_factory=AwsSettings)
    snowflake: SnowflakeSettings = field(default_factory=SnowflakeSettings)
    databricks: DatabricksSettings = field(default_factory=DatabricksSettings)
    unit_costs: UnitCostSettings = field(default_factory=UnitCostSettings)
    warehouse: WarehouseSettings = field(default_factory=WarehouseSettings)

    def threshold_history(self) -> list[Dated[Decimal]]:
        """The configured thresholds with every uncovered day at the 2 % default."""
        return fill_gaps(self.unattributed_threshold, DEFAULT_UNATTRIBUTED_THRESHOLD)

    def threshold_on(self, day: dt.date) -> Decimal:
        entry = in_force(self.threshold_history(), day)
        assert entry is not None  # fill_gaps covers every day
        return entry.value


class _Reader:
    """Reads one mapping of a config file, naming the entry in every error."""

    def __init__(self, source: str, where: str, data: Any):
        self.source = source
        self.where = where
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            self.fail(f"must be a mapping, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data

    def fail(self, rule: str, where: str | None = None) -> None:
        raise ConfigError(self.source, where or self.where, rule)

    def only_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")

    def text(self, key: str, default: str) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key!r} must be a non-empty text")
        return value

    def date(self, key: str, default: dt.date | None = None, *, required: bool = False) -> dt.date | None:
        if key not in self.data or self.data[key] is None:
            if required:
                self.fail(f"{key!r} is required")
            return default
        return parse_date(self.data[key], self.source, f"{self.where}.{key}")

    def decimal(self, key: str, *, minimum: Decimal | None = Decimal(0)) -> Decimal:
        if key not in self.data:
            self.fail(f"{key!r} is required")
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            self.fail(f"{key!r} must be a number, got {value!r}")
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            self.fail(f"{key!r} must be a number, got {value!r}")
        if not number.is_finite():
            self.fail(f"{key!r} must be a finite number")
        if minimum is not None and number < minimum:
            self.fail(f"{key!r} must not be negative, got {number}")
        return number

    def section(self, key: str) -> _Reader:
        return _Reader(self.source, f"{self.where}.{key}" if self.where else key, self.data.get(key))

    def entries(self, key: str) -> list[_Reader]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            self.fail(f"{key!r} must be a list")
        prefix = f"{self.where}.{key}" if self.where else key
        return [_Reader(self.source, f"{prefix}[{index}]", item) for index, item in enumerate(value)]

    def window(self) -> Window:
        start = self.date("effective_from", required=True)
        if "effective_to" not in self.data:
            self.fail("'effective_to' is required (null for an open window)")
        end = self.date("effective_to")
        assert start is not None
        if end is not None and end <= start:
            self.fail(f"effective_to {end} must be after effective_from {start}")
        return Window(start, end)


def parse_date(value: Any, source: str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(source, where, f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def reject_overlaps(source: str, key: str, entries: list[Dated[Any]], scope=lambda _: None) -> None:
    overlap = find_overlap(entries, scope)
    if overlap:
        first, second = overlap
        raise ConfigError(
            source,
            f"{key}[{second}]",
            f"window {entries[second].window} overlaps {key}[{first}] {entries[first].window}",
        )


def parse_settings(data: Any, source: str = SETTINGS_FILE) -> Settings:
    """Validate the parsed YAML of settings.yaml into :class:`Settings`."""
    root = _Reader(source, "", data)
    root.only_keys({"partitions_start", "unattributed_threshold", "aws", "snowflake", "databricks",
                    "unit_costs", "warehouse"})

    thresholds: list[Dated[Decimal]] = []
    for entry in root.entries("unattributed_threshold"):
        entry.only_keys({"effective_from", "effective_to", "value"})
        value = entry.decimal("value")
        if value > 1:
            entry.fail(f"'value' is a share between 0 and 1, got {value}")
        thresholds.append(Dated(entry.window(), value))
    reject_overlaps(source, "unattributed_threshold", thresholds)

    aws = root.section("aws")
    aws.only_keys({"tenant_tag", "module_tag", "metric"})
    snowflake = root.section("snowflake")
    snowflake.only_keys({"tenant_tag", "idle_policy", "credit_price_usd"})
    idle_policy = snowflake.text("idle_policy", "proportional")
    if idle_policy not in IDLE_POLICIES:
        snowflake.fail(f"idle_policy must be one of {', '.join(IDLE_POLICIES)}, got {idle_policy!r}")
    prices: list[Dated[CreditPrice]] = []
    for entry in snowflake.entries("credit_price_usd"):
        entry.only_keys({"effective_from", "effective_to", "price", "warehouse"})
        warehouse = entry.data.get("warehouse")
        prices.append(Dated(entry.window(), CreditPrice(entry.decimal("price"), warehouse and str(warehouse))))
    reject_overlaps(source, "snowflake.credit_price_usd", prices, scope=lambda entry: entry.value.warehouse)

    databricks = root.section("databricks")
    databricks.only_keys({"product_tag", "tenant_tag"})
    unit_costs = root.section("unit_costs")
    unit_costs.only_keys({"category_prefix"})
    warehouse = root.section("warehouse")
    warehouse.only_keys({"memory_limit", "threads"})
    threads = warehouse.data.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        warehouse.fail(f"'threads' must be a positive whole number, got {threads!r}")

    return Settings(
        partitions_start=root.date("partitions_start", DEFAULT_PARTITIONS_START) or DEFAULT_PARTITIONS_START,
        unattributed_threshold=tuple(thresholds),
        aws=AwsSettings(aws.text("tenant_tag", "tenant_id"), aws.text("module_tag", "module_id"),
                        aws.text("metric", "UnblendedCost")),
        snowflake=SnowflakeSettings(snowflake.text("tenant_tag", "TENANT_ID"), idle_policy, tuple(prices)),
        databricks=DatabricksSettings(databricks.text("product_tag", "data_product_id"),
                                      databricks.text("tenant_tag", "tenant_id")),
        unit_costs=UnitCostSettings(unit_costs.text("category_prefix", "costattr")),
        warehouse=WarehouseSettings(warehouse.data.get("memory_limit"), threads),
    )


def load_settings(config_dir: Path) -> Settings:
    """Load ``settings.yaml`` from the config folder; a missing file means all defaults."""
    path = Path(config_dir) / SETTINGS_FILE
    if not path.exists():
        return Settings()
    return parse_settings(load_yaml(path), str(path))
