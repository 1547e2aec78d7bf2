"""``unit_costs.yaml`` and the arithmetic of unit-cost splits and tag strings.

A unit type (Product, Environment, Customer...) splits each day's whole cost
across its items, either by fixed shares (``items``) or by that day's driver
values (``driver: unit_drivers``, e.g. each customer's CUR size). Versions of a
unit type are dated, half-open windows that must not overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from costattr_pipeline.lib.config_model import (Amount, ConfigModel, DatedEntry, Entries, Name, Text, bad_entry,
                                                reject_overlaps, validate_file)
from costattr_pipeline.lib.yaml_loading import load_config_file

UNIT_COSTS_FILE = "unit_costs.yaml"
DRIVER_SOURCE = "unit_drivers"
SHARE_TOLERANCE = Decimal("1e-9")
TAG_SHARE_PLACES = Decimal("0.0000000001")


def _description(value: Any) -> Any:
    return "" if value is None else str(value) if isinstance(value, (int, Decimal)) else value


class UnitType(DatedEntry):
    """One version of a unit type: fixed ``items`` shares, or ``driver``-based."""

    unit_type: Text = Field(description="Name of the unit type (Product, Customer...); versions of the same unit "
                                        "type must not overlap.")
    description: Annotated[str, BeforeValidator(_description)] = Field("", description="What the unit type measures.")
    items: dict[Name, Amount] | None = Field(
        None, description="Fixed shares per item, summing to 1 (within 1e-9). Give this or `driver`.")
    driver: Literal["unit_drivers"] | None = Field(
        None, description="unit_drivers: each day's shares are that day's driver values over their total "
                          "(usage/unit_drivers). Give this or `items`.")

    @property
    def is_driver_based(self) -> bool:
        return self.driver is not None

    @model_validator(mode="after")
    def _items_or_driver(self) -> UnitType:
        note = f"{self.unit_type} {self.window}"
        if (self.items is None) == (self.driver is None):
            raise bad_entry("give exactly one of 'items' (fixed shares) or 'driver: unit_drivers'", note=note)
        if self.items is not None:
            if not self.items:
                raise bad_entry("'items' must name at least one item with its share", note=note)
            total = sum(self.items.values(), Decimal(0))
            if abs(total - 1) > SHARE_TOLERANCE:
                raise bad_entry(f"item shares must sum to 1 (within 1e-9), they sum to {total}", note=note)
        return self


class UnitCostsFile(ConfigModel):
    """unit_costs.yaml: the unit types that split each day's whole cost across their items."""

    unit_types: Entries[UnitType] = Field((), description="Dated versions of each unit type.")

    @field_validator("unit_types")
    @classmethod
    def _one_version_per_unit_type_and_day(cls, unit_types: tuple[UnitType, ...]) -> tuple[UnitType, ...]:
        reject_overlaps(unit_types, scope=lambda unit_type: unit_type.unit_type)
        return unit_types


def parse_unit_costs(data: Any, source: str = UNIT_COSTS_FILE) -> list[UnitType]:
    """Validate unit_costs.yaml: one of items/driver, shares sum to 1 (within 1e-9), no overlapping versions."""
    return list(validate_file(UnitCostsFile, data, source).unit_types)


def load_unit_costs(config_dir: Path) -> list[UnitType]:
    """The unit types of the config folder; none when the file is absent."""
    unit_types = load_config_file(Path(config_dir) / UNIT_COSTS_FILE, parse_unit_costs)
    return [] if unit_types is None else list(unit_types)  # a copy: the validated list is shared


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
