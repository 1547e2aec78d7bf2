"""``unit_costs.yaml`` and the arithmetic of unit-cost splits and tag strings.

A unit type (Product, Environment, Customer...) splits each day's whole cost
across its items, either by fixed shares (``items``) or by that day's driver
values (``driver: unit_drivers``, e.g. each customer's CUR size). Versions of a
unit type are dated, half-open windows that must not overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from costattr_pipeline.lib.config import _Reader, reject_overlaps
from costattr_pipeline.lib.dated import Dated, Window
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.yaml_loading import load_yaml

UNIT_COSTS_FILE = "unit_costs.yaml"
DRIVER_SOURCE = "unit_drivers"
SHARE_TOLERANCE = Decimal("1e-9")
TAG_SHARE_PLACES = Decimal("0.0000000001")


@dataclass(frozen=True)
class UnitType:
    """One version of a unit type: fixed ``items`` shares, or ``driver``-based."""

    unit_type: str
    description: str
    window: Window
    items: Mapping[str, Decimal] | None = None
    driver: str | None = None

    @property
    def is_driver_based(self) -> bool:
        return self.driver is not None


def parse_unit_costs(data: Any, source: str = UNIT_COSTS_FILE) -> list[UnitType]:
    """Validate unit_costs.yaml: one of items/driver, shares sum to 1 (within 1e-9), no overlapping versions."""
    root = _Reader(source, "", data)
    root.only_keys({"unit_types"})
    unit_types: list[UnitType] = []
    for entry in root.entries("unit_types"):
        entry.only_keys({"unit_type", "description", "effective_from", "effective_to", "items", "driver"})
        name = entry.text("unit_type", "")
        window = entry.window()
        where = f"{entry.where} ({name} {window})"
        has_items, has_driver = "items" in entry.data, "driver" in entry.data
        if has_items == has_driver:
            raise ConfigError(source, where, "give exactly one of 'items' (fixed shares) or 'driver: unit_drivers'")
        items = None
        if has_items:
            shares = entry.section("items")
            if not shares.data:
                raise ConfigError(source, where, "'items' must name at least one item with its share")
            items = {str(item): shares.decimal(item) for item in shares.data}
            total = sum(items.values(), Decimal(0))
            if abs(total - 1) > SHARE_TOLERANCE:
                raise ConfigError(source, where, f"item shares must sum to 1 (within 1e-9), they sum to {total}")
        elif entry.data["driver"] != DRIVER_SOURCE:
            raise ConfigError(source, where, f"driver must be '{DRIVER_SOURCE}', got {entry.data['driver']!r}")
        unit_types.append(UnitType(name, str(entry.data.get("description") or ""), window, items,
                                   DRIVER_SOURCE if has_driver else None))
    dated = [Dated(unit_type.window, unit_type) for unit_type in unit_types]
    reject_overlaps(source, "unit_types", dated, scope=lambda entry: entry.value.unit_type)
    return unit_types


def load_unit_costs(config_dir: Path) -> list[UnitType]:
    """The unit types of the config folder; none when the file is absent."""
    path = Path(config_dir) / UNIT_COSTS_FILE
    if not path.exists():
        return []
    return parse_unit_costs(load_yaml(path), str(path))


def in_force_on(unit_types: list[UnitType], day: dt.date) -> list[UnitType]:
    return [unit_type for unit_type in unit_types if unit_type.window.contains(day)]


def tag_share(share: Decimal) -> str:
    """A share as the tag string writes it: 10 decimals, rounded half away from zero."""
    return format(share.quantize(TAG_SHARE_PLACES, rounding=ROUND_HALF_UP), "f")  # never 1E-7 notation


def tag_string(shares: Mapping[str, Decimal]) -> str:
    """``item:share|`` for each item sorted by name, e.g. ``octo:0.3000000000|ripple:0.5000000000|``."""
    return "".join(f"{item}:{tag_share(shares[item])}|" for item in sorted(shares))


def category(prefix: str, unit_type: str) -> str:
    return f"{prefix}:{unit_type}"


def driver_shares(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Shares of a driver-based split: each value over the day's total (exact to 28 digits)."""
    total = sum(values.values(), Decimal(0))
    if total <= 0:
        raise ValueError("driver values must have a positive total")
    return {item: value / total for item, value in values.items()}
