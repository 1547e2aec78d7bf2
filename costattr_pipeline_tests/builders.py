"""Builders for test inputs in the contract's formats (Cost Explorer pages, config files)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_DEFINITIONS = [{"Type": "TAG", "Key": "tenant_id"}, {"Type": "DIMENSION", "Key": "SERVICE"}]


def group(tenant: str | None, service: str, amount: str, tag: str = "tenant_id") -> dict[str, Any]:
    """One Cost Explorer group; ``tenant`` None is the untagged ``tenant_id$`` key."""
    return {"Keys": [f"{tag}${tenant or ''}", service],
            "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}


def page(days: Mapping[str, Sequence[dict[str, Any]]], *, next_token: str | None = None,
         definitions: list[dict[str, str]] | None = None, estimated: bool = False) -> dict[str, Any]:
    """A GetCostAndUsage response holding ``days`` (ISO date -> groups)."""
    result: dict[str, Any] = {
        "GroupDefinitions": definitions or DEFAULT_DEFINITIONS,
        "ResultsByTime": [
            {"TimePeriod": {"Start": day, "End": _next_day(day)}, "Total": {}, "Groups": list(groups),
             "Estimated": estimated}
            for day, groups in days.items()
        ],
        "DimensionValueAttributes": [],
    }
    if next_token:
        result["NextPageToken"] = next_token
    return result


def _next_day(day: str) -> str:
    import datetime as dt

    try:
        return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    except ValueError:  # a deliberately invalid day in a test
        return day


def write_fetch(source_dir: Path, name: str, pages: dict[str, Any] | Iterable[dict[str, Any]]) -> Path:
    folder = Path(source_dir) / "aws_cost_explorer"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    body = pages if isinstance(pages, dict) else list(pages)
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def write_config(config_dir: Path, name: str, text: str) -> Path:
    Path(config_dir).mkdir(parents=True, exist_ok=True)
    path = Path(config_dir) / name
    path.write_text(text, encoding="utf-8")
    return path
