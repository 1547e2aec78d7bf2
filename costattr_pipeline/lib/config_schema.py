"""JSON Schemas of the config files, generated from the models that validate them.

An editor given a schema (e.g. VS Code's YAML extension, through a
``# yaml-language-server: $schema=...`` comment) checks keys, types and help text
as the user types. The schemas come from the same pydantic models costattr
validates with, so they cannot drift apart; rules across entries or files
(overlapping windows, shares summing to 1, unknown tiers) are only checked by
``costattr validate``. ``docs/schemas/`` holds the committed copies, and a test
keeps them equal to freshly generated ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from costattr_pipeline.lib.billing_config import RATE_CARD_FILE, TENANTS_FILE, RateCardFile, TenantsFile
from costattr_pipeline.lib.config import SETTINGS_FILE, Settings
from costattr_pipeline.lib.cost_model import COST_MODEL_FILE, CostModelFile
from costattr_pipeline.lib.unit_costs import UNIT_COSTS_FILE, UnitCostsFile

CONFIG_FILE_MODELS: dict[str, type[BaseModel]] = {
    SETTINGS_FILE: Settings,
    RATE_CARD_FILE: RateCardFile,
    TENANTS_FILE: TenantsFile,
    UNIT_COSTS_FILE: UnitCostsFile,
    COST_MODEL_FILE: CostModelFile,
}
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(config_file: str) -> str:
    """``settings.yaml`` -> ``settings.schema.json``."""
    return f"{Path(config_file).stem}.schema.json"


def config_schema(config_file: str) -> dict[str, Any]:
    """The JSON Schema of one config file (the input it accepts, not the objects it becomes)."""
    schema = CONFIG_FILE_MODELS[config_file].model_json_schema(mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, "title": config_file, **{k: v for k, v in schema.items() if k != "title"}}


def schema_text(config_file: str) -> str:
    return json.dumps(config_schema(config_file), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write ``<name>.schema.json`` for every config file into ``folder``; return the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for config_file in CONFIG_FILE_MODELS:
        path = folder / schema_file_name(config_file)
        path.write_text(schema_text(config_file), encoding="utf-8")
        written.append(path)
    return written
