"""The config files' JSON Schemas: committed copies equal the models' schemas, and they judge YAML as costattr does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from costattr_pipeline.cli import main
from costattr_pipeline.lib.config_schema import CONFIG_FILE_MODELS, schema_file_name, schema_text
from costattr_pipeline.sample import generate as sample_settings
from costattr_pipeline.sample import kubernetes as sample_kubernetes
from costattr_pipeline.sample import unit_costs as sample_unit_costs
from costattr_pipeline.sample import usage as sample_billing
from costattr_pipeline.sample.generate import DemoPeriod

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "schemas"


@pytest.mark.parametrize("config_file", list(CONFIG_FILE_MODELS))
def test_committed_schema_equals_the_models_schema(config_file: str) -> None:
    committed = (COMMITTED / schema_file_name(config_file)).read_text(encoding="utf-8")
    assert committed == schema_text(config_file), f"run `costattr schema` to refresh docs/schemas ({config_file})"


def test_docs_schemas_holds_exactly_one_schema_per_config_file() -> None:
    assert sorted(path.name for path in COMMITTED.iterdir()) == sorted(map(schema_file_name, CONFIG_FILE_MODELS))


def test_schema_command_writes_every_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path / "schemas")]) == 0
    written = {path.name: path.read_text(encoding="utf-8") for path in (tmp_path / "schemas").iterdir()}
    assert written == {schema_file_name(name): schema_text(name) for name in CONFIG_FILE_MODELS}
    assert capsys.readouterr().out.count("wrote ") == len(CONFIG_FILE_MODELS)


def _as_an_editor_reads(path: Path) -> Any:
    """The YAML as a YAML 1.2 editor hands it to JSON Schema: dates are text."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value.isoformat() if isinstance(value, dt.date) else value

    return plain(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.fixture
def sample_config(tmp_path: Path) -> Path:
    """The demo's config files, as `costattr demo` writes them."""
    import random

    period = DemoPeriod(dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    sample_settings.write_config(tmp_path / "config", period)
    sample_billing.write_config(tmp_path / "config", period)
    sample_unit_costs.generate(tmp_path, period, random.Random(7))
    sample_kubernetes.write_config(tmp_path / "config")
    return tmp_path / "config"


def _validator(config_file: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((COMMITTED / schema_file_name(config_file)).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("config_file", list(CONFIG_FILE_MODELS))
def test_the_demo_config_is_valid_for_its_schema(sample_config: Path, config_file: str) -> None:
    assert list(_validator(config_file).iter_errors(_as_an_editor_reads(sample_config / config_file))) == []


@pytest.mark.parametrize("config_file, change, path", [
    ("settings.yaml", lambda data: data["aws"].update(tenant_tga="x"), ["aws"]),
    ("settings.yaml", lambda data: data["snowflake"].update(idle_policy="sometimes"), ["snowflake", "idle_policy"]),
    ("settings.yaml", lambda data: data["unattributed_threshold"][0].update(value=1.5),
     ["unattributed_threshold", 0, "value"]),
    ("settings.yaml", lambda data: data["unattributed_threshold"][0].pop("effective_to"),
     ["unattributed_threshold", 0]),
    ("rate_card.yaml", lambda data: data["versions"][0]["facility_fee"].update(reporting=-1),
     ["versions", 0, "facility_fee", "reporting"]),
    ("tenants.yaml", lambda data: next(iter(data["tenants"].values()))["tiers"][0].update(effective_from="2026-02-30"),
     ["tiers", 0, "effective_from"]),
    ("unit_costs.yaml", lambda data: data["unit_types"][0].update(driver="cur_size"), ["unit_types", 0, "driver"]),
])
def test_the_schema_flags_what_costattr_rejects(sample_config: Path, config_file: str, change, path) -> None:
    data = _as_an_editor_reads(sample_config / config_file)
    change(data)
    errors = list(_validator(config_file).iter_errors(data))
    assert len(errors) == 1
    assert list(errors[0].absolute_path)[-len(path):] == path
