"""The versioned-table description (lib/versioned_tables.py) matches the tables it versions."""

from __future__ import annotations

import pytest

from costattr_pipeline.defs.attribution.snowflake_credits import credit_sql
from costattr_pipeline.defs.ingest.usage import external_api_costs
from costattr_pipeline.lib.sql import declared_columns
from costattr_pipeline.lib.versioned_tables import VersionedTable

VERSION_COLUMNS = ["computation_id", "computed_at", "config_hash", "source_load_ids"]
DESCRIBED = [(credit_sql.CREDIT_DAILY_VERSIONS, credit_sql.TABLES_SQL),
             (external_api_costs.EXTERNAL_API_COSTS_VERSIONS, external_api_costs.TABLES_SQL)]


@pytest.mark.parametrize(("versions", "tables_sql"), DESCRIBED, ids=lambda value: getattr(value, "table", ""))
def test_a_description_names_its_tables_columns_in_their_order(versions: VersionedTable, tables_sql: str) -> None:
    tables = {name: [column.name for column in columns] for name, columns in declared_columns(tables_sql).items()}
    assert tables[versions.table] == [*versions.figures, *VERSION_COLUMNS]
    assert tables[versions.register] == ["cost_date", "computation_id", "computed_at", "config_hash",
                                         "source_load_ids", "row_count"]
    assert versions.staging in tables


def test_a_description_refuses_what_is_not_a_versioned_day_or_a_plain_name() -> None:
    with pytest.raises(ValueError, match="first figure is cost_date"):
        VersionedTable("metering.t", ("tenant_id", "cost_date"), "metering.t_staging")
    with pytest.raises(ValueError, match="not a plain lower-case SQL name"):
        VersionedTable("metering.t", ("cost_date", "x; DROP TABLE y"), "metering.t_staging")
