"""What the catalog shows beside the figures: who owns each asset, its tags, and every column's meaning."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.lib.sql import declared_columns
from costattr_pipeline.metadata import (COLUMN_SCHEMA, LAYER_TAG, LAYERS, SOURCE_TAG, SOURCES, TABLE_NAME, asset_tags,
                                        column_schema)
from costattr_pipeline.target import Target

DEFS_FOLDER = Path(__file__).parents[1] / "costattr_pipeline" / "defs"
TABLES_FILES = sorted(DEFS_FOLDER.rglob("*__tables.sql"))


def _assets(target: Target) -> dict[str, object]:
    with dg.instance_for_test():
        graph = build_definitions(target).resolve_asset_graph()
        return {key.to_user_string(): graph.get(key) for key in graph.materializable_asset_keys}


def test_every_asset_has_an_owner_and_its_source_and_layer_tags(target: Target) -> None:
    assets = _assets(target)
    assert len(assets) >= 20
    for name, node in assets.items():
        assert node.owners, f"{name} has no owner"
        assert all(owner.startswith("team:") for owner in node.owners), (name, node.owners)
        assert node.tags.get(SOURCE_TAG) in SOURCES, (name, node.tags)
        assert node.tags.get(LAYER_TAG) in LAYERS, (name, node.tags)
    # Each concern's owner, and tags that say what the asset is.
    assert (assets["metering/aws_cost_daily"].owners, assets["metering/aws_cost_daily"].tags[SOURCE_TAG],
            assets["metering/aws_cost_daily"].tags[LAYER_TAG]) == (["team:data-platform"], "aws", "landing")
    assert (assets["metering/billing_period_summary"].owners,
            assets["metering/billing_period_summary"].tags[LAYER_TAG]) == (["team:finance-platform"], "billing")
    assert {name: node.tags[SOURCE_TAG] for name, node in assets.items() if node.tags[LAYER_TAG] == "landing"} == {
        "metering/aws_cost_daily": "aws", "landing/snowflake_account_usage": "snowflake",
        "metering/databricks_usage": "databricks", "metering/usage_events": "usage",
        "metering/external_api_costs": "usage", "metering/focus_charges": "focus",
        **{f"metering/k8s_{name}": "kubernetes"
           for name in ("pod_usage", "storage_usage", "vm_usage", "network_usage", "node_infrastructure_cost")}}
    report_tags = assets["reports/monthly_cost_report"].tags
    assert (report_tags[SOURCE_TAG], report_tags[LAYER_TAG]) == ("all", "report")


def test_asset_tags_refuse_a_value_outside_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="source must be one of"):
        asset_tags(source="gcp", layer="landing")


def test_every_tables_file_is_found() -> None:
    names = {path.name for path in TABLES_FILES}
    assert {"unattributed_costs__tables.sql", "aws_cost_daily__tables.sql", "focus_export__tables.sql",
            "billing_period_summary__tables.sql"} <= names


@pytest.mark.parametrize("tables_file", TABLES_FILES, ids=lambda path: path.name)
def test_every_column_of_every_table_says_its_meaning(tables_file: Path) -> None:
    """Each column line of a ``__tables.sql`` has its ``--`` comment: the description its column schema shows."""
    text = tables_file.read_text()
    tables = declared_columns(text)
    assert tables, f"{tables_file.name} creates no table"
    for table, columns in tables.items():
        schema = column_schema(text, table)  # what partition_metadata attaches as dagster/column_schema
        assert [column.name for column in schema.columns] == [column.name for column in columns]
        undescribed = [column.name for column in schema.columns if not column.description]
        assert undescribed == [], f"{tables_file.name}: {table}: columns without a description: {undescribed}"


# The assets that write no one table: the Snowflake landing fills three ACCOUNT_USAGE tables (local target
# only; production reads them in place), the monthly report writes HTML files.
WITHOUT_A_TABLE = {"landing/snowflake_account_usage", "reports/monthly_cost_report"}


def test_the_catalog_shows_every_tables_columns_described_before_the_first_run(target: Target) -> None:
    assets = _assets(target)
    assert WITHOUT_A_TABLE <= set(assets)
    schemas = {}
    for name, node in assets.items():
        if name in WITHOUT_A_TABLE:
            assert COLUMN_SCHEMA not in node.metadata, name
            continue
        schemas[node.metadata[TABLE_NAME].value] = node.metadata[COLUMN_SCHEMA]
    undescribed = [f"{table}.{column.name}" for table, schema in schemas.items()
                   for column in schema.columns if not column.description]
    assert undescribed == []
    assert {"metering.focus_export", "app.cost_items", "metering.unit_cost_tags"} <= set(schemas)
    columns = {column.name: column for column in schemas["metering.billing_period_summary"].columns}
    assert columns["total"].type == "DECIMAL(18, 2)" and columns["total"].constraints.nullable is False
    assert columns["customer_levy"].description.startswith("currency units, cents half away from zero")
